import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changesFromStatement, loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { parseEntraLabel } from '../../../src/analyze/privileges/entra-principals.js';
import { summarize } from './change-summary.js';

before(() => loadStatementParser());

/** Statement texts as pgaudit logged them from the stand-ins (docs/azure-identities.md) → one line per change. */
const statements: [string, string[]][] = [
  ["SELECT * FROM pgaadauth_create_principal('alice@contoso.com', false, false);", [
    'create-role role=alice@contoso.com value=ROLE',
    'set-attribute role=alice@contoso.com attr=rolcanlogin value=true',
    'set-attribute role=alice@contoso.com attr=auth_kind value=entra',
    'set-attribute role=alice@contoso.com attr=entra_admin value=false',
    'set-attribute role=alice@contoso.com attr=entra_mfa value=false',
  ]],
  ["select pgaadauth_create_principal_with_oid('app1', 'aaaaaaaa-2222-3333-4444-555555555555', 'service', false, true);", [
    'create-role role=app1 value=ROLE',
    'set-attribute role=app1 attr=rolcanlogin value=true',
    'set-attribute role=app1 attr=auth_kind value=entra',
    'set-attribute role=app1 attr=entra_type value=service',
    'set-attribute role=app1 attr=entra_oid value=aaaaaaaa-2222-3333-4444-555555555555',
    'set-attribute role=app1 attr=entra_admin value=false',
    'set-attribute role=app1 attr=entra_mfa value=true',
  ]],
  // Schema-qualified, upper case, casts, as a FROM item: the same call.
  ["SELECT * FROM public.PGAADAUTH_CREATE_PRINCIPAL_WITH_OID('Ops', 'o1', 'GROUP', 'true'::boolean, 't')", [
    'create-role role=Ops value=ROLE',
    'set-attribute role=Ops attr=rolcanlogin value=true',
    'set-attribute role=Ops attr=auth_kind value=entra',
    'set-attribute role=Ops attr=entra_type value=group',
    'set-attribute role=Ops attr=entra_oid value=o1',
    'set-attribute role=Ops attr=entra_admin value=true',
    'set-attribute role=Ops attr=entra_mfa value=true',
  ]],
  // A bind parameter: the flag is unknown (NULL), not a guess; without the role name there is nothing to say.
  ["SELECT pgaadauth_create_principal('bob', $1, true)", [
    'create-role role=bob value=ROLE',
    'set-attribute role=bob attr=rolcanlogin value=true',
    'set-attribute role=bob attr=auth_kind value=entra',
    'set-attribute role=bob attr=entra_admin',
    'set-attribute role=bob attr=entra_mfa value=true',
  ]],
  ['SELECT pgaadauth_create_principal($1, false, true)', []],
  ["SECURITY LABEL FOR \"pgaadauth\" ON ROLE \"alice@contoso.com\" IS 'aadauth,oid=99999999-2222-3333-4444-555555555555,type=user,admin'", [
    'set-attribute role=alice@contoso.com attr=auth_kind value=entra',
    'set-attribute role=alice@contoso.com attr=entra_type value=user',
    'set-attribute role=alice@contoso.com attr=entra_oid value=99999999-2222-3333-4444-555555555555',
    'set-attribute role=alice@contoso.com attr=entra_admin value=true',
  ]],
  // Without FOR: the only provider loaded (pgaadauth on Azure).
  ["SECURITY LABEL ON ROLE app1 IS 'aadauth,oid=o2,type=service'", [
    'set-attribute role=app1 attr=auth_kind value=entra',
    'set-attribute role=app1 attr=entra_type value=service',
    'set-attribute role=app1 attr=entra_oid value=o2',
    'set-attribute role=app1 attr=entra_admin value=false',
  ]],
  ['SECURITY LABEL FOR pgaadauth ON ROLE app1 IS NULL;', [
    'set-attribute role=app1 attr=auth_kind value=postgres',
    'set-attribute role=app1 attr=entra_type',
    'set-attribute role=app1 attr=entra_oid',
    'set-attribute role=app1 attr=entra_admin',
    'set-attribute role=app1 attr=entra_mfa',
  ]],
  // Other providers, other objects, and other functions change nothing here.
  ["SECURITY LABEL FOR selinux ON ROLE app1 IS 'aadauth,oid=o3,type=user'", []],
  ["SECURITY LABEL FOR pgaadauth ON TABLE t IS 'aadauth,oid=o3,type=user'", []],
  ["SELECT my_create_principal('x', true, true)", []],
];

describe('Entra principals in statement text', () => {
  for (const [sql, expected] of statements) {
    it(sql, () => assert.deepEqual(changesFromStatement(sql, { truncated: false }).map(summarize), expected));
  }
});

describe('parseEntraLabel', () => {
  it('reads object id, type and admin in any order, and refuses labels that are not Entra mappings', () => {
    assert.deepEqual(parseEntraLabel('aadauth,oid=o1,type=group,admin'), { objectId: 'o1', type: 'group', admin: true });
    assert.deepEqual(parseEntraLabel('aadauth, admin, type=User, oid=o2'), { objectId: 'o2', type: 'user', admin: true });
    assert.deepEqual(parseEntraLabel('aadauth'), { objectId: null, type: null, admin: false });
    assert.equal(parseEntraLabel('system_u:object_r:sepgsql_table_t:s0'), null);
  });
});
