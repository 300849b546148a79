/** Whether a bucket name is one S3 accepts at CreateBucket (general purpose buckets). */
export function validBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (['xn--', 'sthree-', 'amzn-s3-demo-'].some((p) => name.startsWith(p))) return false;
  if (['-s3alias', '--ol-s3', '.mrap', '--x-s3'].some((s) => name.endsWith(s))) return false;
  return true;
}

/** Names another request may use to reach an existing bucket: anything that could have been created. */
export function plausibleBucketName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.includes('/');
}

export const MAX_KEY_BYTES = 1024;
