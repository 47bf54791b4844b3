// ferry in the reload-storm measurement: one group, one thread, a frontend in `mode` (http or tcp),
// at the measuring log level (`--ferry-log`, warn by default: no access log, which would cost HTTP
// mode about a quarter of its rate here, while haproxy logs nothing). A reload is a SIGHUP to the
// master, as in the reload measurement; reloads done are the master's own count, asked through its
// master CLI (ferry-ctl.ts) once the load is over, since a quiet log has no "reload done" line.

import type { ReloadableContender } from './contender';
import { launch, proxyConfig, reloadable, type FerryConfig, type FerrySettings } from './ferry';
import { ferryReloads } from './ferry-ctl';

interface MasterSocket {
  path: string;
}

/** proxyConfig(mode), remembering the master socket it names (a fresh temp path per config). */
function configNoting(mode: 'tcp' | 'http', socket: MasterSocket): FerryConfig {
  return (port, backendPort, logLevel, size) => {
    const text = proxyConfig(mode)(port, backendPort, logLevel, size);
    socket.path = (JSON.parse(text) as { global: { masterSocket: string } }).global.masterSocket;
    return text;
  };
}

export async function startFerryStorm(settings: FerrySettings, name: string, backendPort: number, mode: 'tcp' | 'http'): Promise<ReloadableContender> {
  const socket: MasterSocket = { path: '' };
  const launched = await launch(settings, name, backendPort, configNoting(mode, socket));
  return reloadable(name, launched, async () => ferryReloads(settings.cli, socket.path));
}
