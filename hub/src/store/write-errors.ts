/** How EventWriter.write() can fail; anything else it retries until the database takes it. */

/** write() rejects with this when PostgreSQL refuses the event's data itself (SQLSTATE 22/23). */
export class UnstorableEventError extends Error {
  override readonly name = 'UnstorableEventError';
}

/** write() rejects with this for events still held when close() gave up waiting. */
export class WriterClosedError extends Error {
  override readonly name = 'WriterClosedError';
}
