// A promise with its settle functions (Promise.withResolvers, which bun-types may not declare).
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // only a broken events pipe (a bug) rejects: never unhandled
  return { promise, resolve, reject };
}
