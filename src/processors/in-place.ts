/**
 * Base for processors that only read or change records in place: they hold nothing, so there is
 * nothing to flush or shut down.
 */
export abstract class InPlaceProcessor {
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
