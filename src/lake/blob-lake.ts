/**
 * A lake in an Azure Blob container (or ADLS Gen2, which serves the same API), written with the SDK: DuckDB
 * cannot download its azure extension here, so files are written locally and uploaded. Credentials: the
 * connection string in AUDITDUCK_LAKE_CONNECTION_STRING, a SAS in the URL, or DefaultAzureCredential.
 */
import { AnonymousCredential, BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { checkSame, sha256Hex, type LakeStorage } from './lake-storage.js';
import type { LakeLocation } from './lake-location.js';

type BlobLocation = Extract<LakeLocation, { kind: 'blob' }>;

export class BlobLake implements LakeStorage {
  readonly description: string;

  private constructor(
    private readonly container: ContainerClient,
    private readonly prefix: string,
  ) {
    this.description = `${container.url.split('?')[0]}${prefix ? `/${prefix}` : ''}`;
  }

  static async connect(location: BlobLocation, env: NodeJS.ProcessEnv): Promise<BlobLake> {
    const connectionString = env.AUDITDUCK_LAKE_CONNECTION_STRING;
    let service: BlobServiceClient;
    if (connectionString) service = BlobServiceClient.fromConnectionString(connectionString);
    else if (location.sas) service = new BlobServiceClient(`${location.serviceUrl}?${location.sas}`, new AnonymousCredential());
    else {
      const { DefaultAzureCredential } = await import('@azure/identity');
      service = new BlobServiceClient(location.serviceUrl, new DefaultAzureCredential());
    }
    return new BlobLake(service.getContainerClient(location.container), location.prefix);
  }

  async ensureReady(): Promise<void> {
    await this.container.createIfNotExists();
  }

  async put(path: string, localFile: string, sha256: string): Promise<void> {
    const blob = this.container.getBlockBlobClient(this.name(path));
    const existing = await this.existingHash(path);
    if (existing !== null) return checkSame(path, existing, sha256);
    await blob.uploadFile(localFile, { metadata: { sha256 }, conditions: { ifNoneMatch: '*' } });
  }

  async putText(path: string, text: string): Promise<void> {
    const wanted = sha256Hex(text);
    const existing = await this.existingHash(path);
    if (existing !== null) return checkSame(path, existing, wanted);
    const body = Buffer.from(text);
    await this.container.getBlockBlobClient(this.name(path)).upload(body, body.length, {
      metadata: { sha256: wanted },
      blobHTTPHeaders: { blobContentType: 'application/json' },
      conditions: { ifNoneMatch: '*' },
    });
  }

  async get(path: string): Promise<Buffer | null> {
    try {
      return await this.container.getBlobClient(this.name(path)).downloadToBuffer();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return null;
      throw error;
    }
  }

  async list(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    const from = this.name(prefix);
    for await (const blob of this.container.listBlobsFlat({ prefix: from })) out.push(this.prefix ? blob.name.slice(this.prefix.length + 1) : blob.name);
    return out.sort();
  }

  /** The SHA-256 of the blob at `path` (from the bytes, not the metadata a writer set); null when there is none. */
  private async existingHash(path: string): Promise<string | null> {
    const bytes = await this.get(path);
    return bytes === null ? null : sha256Hex(bytes);
  }

  private name(path: string): string {
    return this.prefix ? (path ? `${this.prefix}/${path}` : `${this.prefix}/`) : path;
  }
}
