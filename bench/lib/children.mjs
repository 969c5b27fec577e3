// Talking to the benchmark's child processes over IPC without ever hanging on one: shared by
// `npm run bench` (bench/run.mjs) and `npm run bench:instructions:http`.

/**
 * Sends `message` to a child (null: nothing, just wait) and resolves with its next IPC
 * message. Rejects, never hangs, when the child is gone, dies first or stays silent for
 * `timeoutMs`; a silent child is killed so that it cannot outlive the run.
 */
export function ask(child, message, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    const done = (error, answer) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(answer);
    };
    const onMessage = (m) => done(null, m);
    const onExit = (code, signal) => done(new Error(`${what} exited (${signal ?? code}) before answering`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(new Error(`${what} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (message === null) return;
    if (!child.connected) return done(new Error(`${what} is gone`));
    child.send(message, (error) => error && done(error));
  });
}

/** Asks a child to exit ('exit' over IPC); kills it if it has not within `graceMs`. */
export function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => child.once('exit', r));
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  if (child.connected) child.send('exit', () => {});
  else child.kill('SIGKILL');
  return exited.finally(() => clearTimeout(timer));
}
