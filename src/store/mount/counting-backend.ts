import type { ArchiveDisplay, Backend, BackendLimits, ByteRange, PackStat, PackUpload } from '../../backends/backend.js';

/** A backend that counts what is read from it (the mount reports it in `dos status`). */
export class CountingBackend implements Backend {
  readonly kind: Backend['kind'];
  readonly description: string;
  reads = 0;
  readBytes = 0;
  writes = 0;
  writtenBytes = 0;

  constructor(private readonly inner: Backend) {
    this.kind = inner.kind;
    this.description = inner.description;
    if (inner.listPacks) this.listPacks = () => inner.listPacks!();
    if (inner.removePartialUploads) this.removePartialUploads = (ms) => inner.removePartialUploads!(ms);
    if (inner.showProgress) this.showProgress = (id, display) => inner.showProgress!(id, display);
  }

  listPacks?: Backend['listPacks'];
  removePartialUploads?: Backend['removePartialUploads'];
  showProgress?: Backend['showProgress'];

  limits(): Promise<BackendLimits> {
    return this.inner.limits();
  }

  async putPack(pack: PackUpload): Promise<string> {
    const locator = await this.inner.putPack(pack);
    this.writes++;
    this.writtenBytes += pack.data.length;
    return locator;
  }

  async readPack(locator: string, range?: ByteRange): Promise<Buffer> {
    const data = await this.inner.readPack(locator, range);
    this.reads++;
    this.readBytes += data.length;
    return data;
  }

  statPacks(locators: string[]): Promise<Map<string, PackStat>> {
    return this.inner.statPacks(locators);
  }

  deletePacks(locators: string[]): Promise<void> {
    return this.inner.deletePacks(locators);
  }

  readKeyring(): Promise<Buffer | null> {
    return this.inner.readKeyring();
  }

  writeKeyring(data: Buffer): Promise<void> {
    return this.inner.writeKeyring(data);
  }

  putRecord(archiveId: string, data: Buffer, display: ArchiveDisplay): Promise<void> {
    return this.inner.putRecord(archiveId, data, display);
  }

  listRecords(): Promise<Array<{ archiveId: string; data: Buffer }>> {
    return this.inner.listRecords();
  }

  deleteRecord(archiveId: string): Promise<void> {
    return this.inner.deleteRecord(archiveId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
