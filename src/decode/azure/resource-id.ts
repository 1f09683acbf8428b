/**
 * Azure Resource Manager ids, read case-insensitively (the Activity Log writes them in any casing,
 * `/SUBSCRIPTIONS/.../FLEXIBLESERVERS/PG1` as often as `/subscriptions/.../flexibleServers/pg1`):
 * `/subscriptions/S/resourceGroups/RG/providers/NS/type/name[/childType/childName...]
 *  [/providers/NS2/extType/extName]`.
 */

export interface ResourceId {
  subscription: string | null;
  resourceGroup: string | null;
  /** Resource provider namespace, lowercase (`microsoft.dbforpostgresql`). */
  provider: string | null;
  /** Top-level type, lowercase (`flexibleservers`). */
  type: string | null;
  /** Top-level name, as written. */
  name: string | null;
  /** Child resources under it: `firewallRules/AllowAll` → `{ type: 'firewallrules', name: 'AllowAll' }`. */
  children: { type: string; name: string }[];
  /** An extension resource on it (`/providers/Microsoft.Insights/diagnosticSettings/NAME`). */
  extension: { provider: string; type: string; name: string | null } | null;
}

export function parseResourceId(id: string): ResourceId {
  const parts = id.split('/').filter((p) => p !== '');
  const out: ResourceId = { subscription: null, resourceGroup: null, provider: null, type: null, name: null, children: [], extension: null };
  let i = 0;
  if (parts[i]?.toLowerCase() === 'subscriptions') {
    out.subscription = parts[i + 1] ?? null;
    i += 2;
  }
  if (parts[i]?.toLowerCase() === 'resourcegroups') {
    out.resourceGroup = parts[i + 1] ?? null;
    i += 2;
  }
  if (parts[i]?.toLowerCase() !== 'providers') return out;
  out.provider = parts[i + 1]?.toLowerCase() ?? null;
  out.type = parts[i + 2]?.toLowerCase() ?? null;
  out.name = parts[i + 3] ?? null;
  i += 4;
  while (i < parts.length) {
    if (parts[i]!.toLowerCase() === 'providers' && i + 2 < parts.length) {
      out.extension = { provider: parts[i + 1]!.toLowerCase(), type: parts[i + 2]!.toLowerCase(), name: parts[i + 3] ?? null };
      break;
    }
    out.children.push({ type: parts[i]!.toLowerCase(), name: parts[i + 1] ?? '' });
    i += 2;
  }
  return out;
}

/** PostgreSQL server resource types: Flexible Server, and the retired Single Server. */
const POSTGRES_SERVER_TYPES = new Set(['microsoft.dbforpostgresql/flexibleservers', 'microsoft.dbforpostgresql/servers']);

/** The server's name, lowercase, when the id is a PostgreSQL server or something under it; else null. */
export function postgresServerOf(id: ResourceId): string | null {
  if (id.provider === null || id.type === null || id.name === null) return null;
  return POSTGRES_SERVER_TYPES.has(`${id.provider}/${id.type}`) ? id.name.toLowerCase() : null;
}

/** `microsoft.storage/storageaccounts`: what a record is about, for counting the ones skipped. */
export function resourceTypeOf(id: ResourceId): string {
  if (id.provider === null) return id.resourceGroup !== null ? 'resourcegroup' : id.subscription !== null ? 'subscription' : 'unknown';
  return id.type === null ? id.provider : `${id.provider}/${id.type}`;
}
