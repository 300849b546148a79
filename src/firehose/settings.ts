/** The Firehose service's settings. */
export interface FirehoseSettings {
  region: string;
  accountId: string;
  /** How long a new delivery stream stays CREATING (and a deleted one DELETING). */
  createDelayMs: number;
  /** Delivery streams per account (AWS: 5,000). */
  deliveryStreamLimit: number;
  /** How often delivery looks at its buffers and the catalog (real time; buffering intervals read the clock). */
  tickMs: number;
}

export const defaultFirehoseSettings: FirehoseSettings = {
  region: 'us-east-1',
  accountId: '000000000000',
  createDelayMs: 100,
  deliveryStreamLimit: 5000,
  tickMs: 100,
};
