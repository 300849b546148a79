/** Client libraries for Kinesis Data Streams (AWS or Tributary), built on @aws-sdk/client-kinesis only. */
export * from './aggregation.js';
export * from './producer/index.js';
export * from './consumer/index.js';
