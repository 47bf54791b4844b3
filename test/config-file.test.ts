// The configuration file as users write it and see it judged: JSON with comments, the messages for
// a broken or foreign file, "$schema", "did you mean", and `ferry schema` for editors.

import Ajv from 'ajv';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readConfigFile } from '../src/config/file';
import { CUSTOM_KEYWORDS } from '../src/config/keywords';
import { CONFIG_SCHEMA } from '../src/config/schema';
import { runCli, tmpPath } from './helpers/ferry';

const ETC = join(__dirname, '..', '..', 'etc');
const EXAMPLES = readdirSync(ETC).filter((name) => name.endsWith('.json')).map((name) => join(ETC, name));

let files = 0;

function writeText(name: string, text: string): string {
  const file = tmpPath(`${++files}-${name}`);
  writeFileSync(file, text);
  return file;
}

/** stderr of a failed `ferry check`, each line a "ferry:" heading or a "  - " problem: no message spans lines. */
async function checkFails(file: string): Promise<string[]> {
  const r = await runCli(['check', '--no-bind', '-c', file]);
  assert.is(r.code, 1, r.stdout);
  const lines = r.stderr.trimEnd().split('\n');
  for (const line of lines) assert.match(line, /^(ferry: |  - )/);
  return lines;
}

const COMMENTED = `// The smallest useful ferry: one port, one server.
{
  "$schema": "./ferry.schema.json",
  "global": { "groups": 1, /* "threads": 4, */ },
  "frontends": {
    "web": {
      "bind": ["127.0.0.1:8080",],  // a trailing comma
      "backend": "app",
    },
  },
  /* backends
     and their servers */
  "backends": { "app": { "servers": { "s1": { "address": "127.0.0.1:9000" } } } },
}
`;

test('check accepts a file with comments, trailing commas and a top-level "$schema"', async () => {
  const r = await runCli(['check', '--no-bind', '-c', writeText('commented.json', COMMENTED)]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /is valid: 1 frontends, 1 backends, 1 binds/);
});

test('a syntax error names the file, the line and the column, and what is wrong', async () => {
  const broken = COMMENTED.replace('"backend": "app",', '"backend": "app"\n      "maxconn": 10');
  const file = writeText('broken.json', broken);
  assert.equal(await checkFails(file), [
    `ferry: configuration "${file}" has 1 problem:`,
    `  - config file "${file}" is not valid JSON at line 9, column 7: expected "," before "maxconn"`,
  ]);
});

test('a YAML file is told that the configuration is JSON with comments, and where it went wrong', async () => {
  const file = writeText('ferry.yaml', '# ferry\nglobal:\n  groups: 2\nfrontends:\n  web:\n    bind: ["127.0.0.1:8080"]\n    backend: app\n');
  for (const command of ['check', 'start']) {
    const r = await runCli([command, '-c', file]);
    assert.is(r.code, 1, `${command}: ${r.stdout}`);
    assert.equal(r.stderr.trimEnd().split('\n'), [
      `ferry: configuration "${file}" has 1 problem:`,
      `  - config file "${file}" looks like YAML, but the configuration is JSON, with // and /* */ comments and trailing commas allowed; at line 1, column 1 expected "{" to open it, found '#'`,
    ]);
  }
});

test('an unknown key close to a known one is named: did you mean', async () => {
  const file = writeText('typo.json', COMMENTED.replace('"backend": "app",', '"backend": "app", "maxconnn": 5, "_note": "x",'));
  const lines = await checkFails(file);
  assert.is(lines.length, 3, lines.join('\n'));
  assert.match(lines[1], /^  - frontends\.web\.maxconnn: unknown key, did you mean "maxconn"\? \(expected one of: bind, mode, maxconn, /);
  assert.match(lines[2], /^  - frontends\.web\._note: unknown key: for a note, or to leave a key out, write a \/\/ or \/\* \*\/ comment, which the file allows \(/);
});

test('ferry schema prints, as JSON, the schema that check validates against', async () => {
  const r = await runCli(['schema']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  const printed = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(printed, CONFIG_SCHEMA, 'the very object the validator compiles');
  assert.is(printed.$schema, 'http://json-schema.org/draft-07/schema#');

  // With ferry's own keywords, a strict ajv takes it whole and passes every example, which ferry reads.
  const validate = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true, keywords: CUSTOM_KEYWORDS }).compile(printed);
  for (const example of EXAMPLES) {
    const { data, problems } = readConfigFile(example);
    assert.equal(problems, [], example);
    assert.ok(validate(data), `${example}: ${JSON.stringify(validate.errors)}`);
  }
  assert.not.ok(validate({ frontends: { web: { bind: ['127.0.0.1:1'], backend: 'app', maxconnn: 1 } } }));

  // An editor knows only the standard keywords: it still completes and checks the keys.
  const editor = new Ajv({ strict: false, allErrors: true }).compile(printed);
  const example = readConfigFile(join(ETC, 'ferry.json')).data!;
  assert.ok(editor(example), JSON.stringify(editor.errors));
  (example.frontends as Record<string, Record<string, unknown>>).web.maxconnn = 1;
  assert.not.ok(editor(example));
  assert.equal(
    editor.errors!.map((e) => [e.instancePath, e.params]),
    [['/frontends/web', { additionalProperty: 'maxconnn' }]],
  );
});

test('ferry schema takes no file or option; --help tells how an editor uses it', async () => {
  for (const args of [['schema', '-c', 'etc/ferry.json'], ['schema', 'extra']]) {
    const r = await runCli(args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^ferry: (schema takes no options, found --config|unexpected argument "extra")\n/);
  }
  const help = await runCli(['--help']);
  assert.match(help.stdout, /ferry schema +print the JSON Schema/);
  assert.match(help.stdout, /"\$schema": "\.\/ferry\.schema\.json"/);
});

test.run();
