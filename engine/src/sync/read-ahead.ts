/**
 * Reads one page ahead of its consumer: while the engine stores a page of the directory, the next
 * page is already being asked for, so the domain controller (another process, often another core
 * or host) produces it meanwhile. Paged LDAP searches are otherwise strictly one request at a time,
 * and an import took the DC's time plus the engine's, page after page.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined = iterator.next();
  // A failure of the page read ahead is thrown when the consumer gets to it, not as an unhandled rejection meanwhile.
  pending.catch(() => undefined);
  let finished = false;
  try {
    for (;;) {
      const result: IteratorResult<T> = await pending;
      pending = undefined;
      if (result.done) {
        finished = true;
        return;
      }
      pending = iterator.next();
      pending.catch(() => undefined);
      yield result.value;
    }
  } catch (error) {
    finished = true;
    throw error;
  } finally {
    // The consumer stopped early (or failed): let the read in flight end, then close the source.
    if (!finished) {
      await pending?.catch(() => undefined);
      await iterator.return?.(undefined);
    }
  }
}
