// Helpers are started with an IPC channel; when the bench dies, even by
// SIGKILL, the channel closes and the helper follows instead of lingering.

export function tetherToParent(): void {
  if (process.send === undefined) return;
  process.on('disconnect', () => process.exit(0));
}
