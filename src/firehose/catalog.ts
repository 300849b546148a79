/**
 * Delivery streams in the catalog: one document (a catalog setting) holds them all, changed by
 * compare-and-set, so that a crash leaves the old or the new set and two nodes of a cluster never
 * undo each other's change. Each stream's delivery progress is a setting of its own, written after
 * every delivered object, so that the document changes only with the configuration.
 */
import { updateSetting, type Catalog } from '../storage/catalog.js';
import type { DeliveryStreamMeta } from './model.js';

const STREAMS = 'firehose/delivery-streams';
const progressKey = (id: string) => `firehose/progress/${id}`;
const redshiftLoadsKey = (id: string) => `firehose/redshift-loads/${id}`;

export interface DeliveryProgress {
  /** Every accepted record below this offset has been delivered (or written to the error output). */
  deliveredOffset: number;
}

/** A COPY transaction about to commit, and the offsets of its first and last record. */
export interface RedshiftLoad {
  /** The database loaded into, `host:port/database`. */
  target: string;
  xid: string;
  first: number;
  last: number;
}

export class DeliveryStreamCatalog {
  constructor(private readonly catalog: Catalog) {}

  async load(): Promise<Map<string, DeliveryStreamMeta>> {
    return parse(await this.catalog.getSetting(STREAMS));
  }

  /**
   * Read-modify-write of the set: `change` gets the current streams by name and returns the new
   * set, or undefined to leave it; it runs again on a newer set after a conflict. Resolves to the
   * set as stored.
   */
  async update(
    change: (streams: Map<string, DeliveryStreamMeta>) => Map<string, DeliveryStreamMeta> | undefined,
  ): Promise<Map<string, DeliveryStreamMeta>> {
    let result: Map<string, DeliveryStreamMeta> | undefined;
    const stored = await updateSetting(this.catalog, STREAMS, (text) => {
      const next = change(parse(text));
      result = next;
      return next === undefined ? undefined : JSON.stringify([...next.values()]);
    });
    return result ?? parse(stored);
  }

  async progress(id: string): Promise<DeliveryProgress> {
    const text = await this.catalog.getSetting(progressKey(id));
    return text === undefined ? { deliveredOffset: 0 } : (JSON.parse(text) as DeliveryProgress);
  }

  async saveProgress(id: string, progress: DeliveryProgress): Promise<void> {
    await this.catalog.putSetting(progressKey(id), JSON.stringify(progress));
  }

  /** A Redshift destination's journal of loads about to commit (destinations/redshift.ts). */
  async redshiftLoads(id: string): Promise<RedshiftLoad[]> {
    const text = await this.catalog.getSetting(redshiftLoadsKey(id));
    return text === undefined ? [] : (JSON.parse(text) as RedshiftLoad[]);
  }

  async saveRedshiftLoads(id: string, loads: readonly RedshiftLoad[]): Promise<void> {
    await this.catalog.putSetting(redshiftLoadsKey(id), JSON.stringify(loads));
  }
}

function parse(text: string | undefined): Map<string, DeliveryStreamMeta> {
  const list = text === undefined ? [] : (JSON.parse(text) as DeliveryStreamMeta[]);
  return new Map(list.map((s) => [s.name, s]));
}
