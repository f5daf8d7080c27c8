// TLS settings in a connection's URL, and the driver configuration each one becomes:
// PostgreSQL's sslmode with libpq's meaning, MariaDB's ssl-mode and its files, Oracle's TCPS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseRegistry } from '../../plan/databases';
import { toFailure } from '../../activities/failures';
import { connectionFailure } from '../../plan/connection-failures';
import { ConnectionUrlError } from '../../dialects';
import { loginError, mariadbPoolOptions } from '../../dialects/mariadb/mariadb-connection';
import { oraclePoolSettings } from '../../dialects/oracle/oracle-connection';
import { libpqClientConfig, postgresPoolConfig } from '../../dialects/postgres/postgres-connection';
import { metadataLoginError } from '../../metadata/open-metadata';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-tls-unit-'));
const file = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};
const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const CERT = file('client.pem', '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const KEY = file('client.key', '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const MISSING = path.join(dir, 'missing.pem');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NO_ENV = {};
/** The TLS options node-postgres gets for a URL, as plain data (a no-op identity check shown as 'skipped'). */
function pgSsl(url: string, env: NodeJS.ProcessEnv = NO_ENV) {
  const ssl = libpqClientConfig(url, env).ssl;
  if (typeof ssl !== 'object') return ssl;
  return {
    ...ssl,
    ...(ssl.checkServerIdentity
      ? { checkServerIdentity: ssl.checkServerIdentity('h', {} as never) === undefined ? 'skipped' : 'checked' }
      : {}),
  };
}

describe('PostgreSQL sslmode, with libpq’s meaning', () => {
  const base = 'postgres://etl@db.example:5432/dwh';

  it('without sslmode: no TLS, whatever node-postgres would make of PGSSLMODE', () => {
    expect(pgSsl(base)).toBe(false);
    expect(pgSsl(`${base}?application_name=x`)).toBe(false);
  });

  it('disable: no TLS', () => {
    expect(pgSsl(`${base}?sslmode=disable`)).toBe(false);
  });

  it('prefer and require: encrypted, the certificate not checked', () => {
    expect(pgSsl(`${base}?sslmode=prefer`)).toEqual({ rejectUnauthorized: false });
    expect(pgSsl(`${base}?sslmode=require`)).toEqual({ rejectUnauthorized: false });
  });

  it('require with sslrootcert: the chain checked against it, not the host name (as libpq)', () => {
    expect(pgSsl(`${base}?sslmode=require&sslrootcert=${CA}`)).toEqual({
      ca: expect.stringContaining('ca'),
      checkServerIdentity: 'skipped',
    });
  });

  it('verify-ca: the chain checked, not the host name', () => {
    const ssl = pgSsl(`${base}?sslmode=verify-ca&sslrootcert=${CA}`);
    expect(ssl).toEqual({ ca: expect.stringContaining('ca'), checkServerIdentity: 'skipped' });
    expect(ssl).not.toHaveProperty('rejectUnauthorized');
  });

  it('verify-full: the chain and the host name checked (Node’s defaults), against sslrootcert or the system’s CAs', () => {
    expect(pgSsl(`${base}?sslmode=verify-full&sslrootcert=${CA}`)).toEqual({ ca: expect.stringContaining('ca') });
    expect(pgSsl(`${base}?sslmode=verify-full`)).toEqual({});
    expect(pgSsl(`${base}?sslrootcert=system`)).toEqual({});
    expect(pgSsl(`${base}?sslmode=verify-full&sslrootcert=system`)).toEqual({});
  });

  it('reads a client certificate and its key', () => {
    const ssl = libpqClientConfig(`${base}?sslmode=verify-full&sslrootcert=${CA}&sslcert=${CERT}&sslkey=${KEY}`, NO_ENV)
      .ssl as { cert: string; key: string };
    expect(ssl.cert).toContain('client');
    expect(ssl.key).toContain('key');
  });

  it('takes libpq’s PGSSLMODE and PGSSLROOTCERT where the URL has none, with the same meaning', () => {
    expect(pgSsl(base, { PGSSLMODE: 'require' })).toEqual({ rejectUnauthorized: false });
    expect(pgSsl(base, { PGSSLMODE: 'verify-ca', PGSSLROOTCERT: CA })).toEqual({
      ca: expect.stringContaining('ca'),
      checkServerIdentity: 'skipped',
    });
    expect(pgSsl(`${base}?sslmode=disable`, { PGSSLMODE: 'verify-full' })).toBe(false);
    expect(() => libpqClientConfig(base, { PGSSLMODE: 'verify-ca' })).toThrow(
      'sets sslmode (from PGSSLMODE)=verify-ca without sslrootcert',
    );
  });

  it('keeps the rest of the URL and the password given beside it', () => {
    const config = postgresPoolConfig(`${base}?sslmode=require&options=-c%20search_path%3Dstage`, {
      password: 'pw',
      fallBack: false,
    });
    expect(config).toMatchObject({
      host: 'db.example',
      port: 5432,
      user: 'etl',
      database: 'dwh',
      password: 'pw',
      options: '-c search_path=stage',
      ssl: { rejectUnauthorized: false },
    });
  });

  it.each([
    [`sslmode=verify-ca`, 'sets sslmode=verify-ca without sslrootcert', 'add sslrootcert='],
    [
      `sslmode=allow`,
      'sets sslmode=allow, which is not one of disable, prefer, require, verify-ca, verify-full',
      'use sslmode=disable (no TLS) or sslmode=prefer',
    ],
    [
      `sslmode=verify_full`,
      'sets sslmode=verify_full, which is not one of',
      'set sslmode to one of disable, prefer, require, verify-ca, verify-full',
    ],
    [`sslmode=no-verify`, 'sets sslmode=no-verify, which is not one of', 'set sslmode to one of'],
    [`ssl=true`, "sets ssl=true, node-postgres's own parameter", 'write sslmode instead'],
    [`uselibpqcompat=false`, 'sets uselibpqcompat=false', 'remove uselibpqcompat'],
    [
      `sslmode=require&sslcrl=/x.crl`,
      'sets sslcrl, which is not read here',
      'remove sslcrl; the TLS parameters read are sslmode, sslrootcert, sslcert, sslkey, sslnegotiation',
    ],
    [`sslrootcert=${CA}`, 'sets sslrootcert without sslmode', 'add sslmode=verify-full'],
    [`sslmode=require&sslrootcert=system`, 'sets sslrootcert=system with sslmode=require', 'use sslmode=verify-full'],
    [`sslmode=verify-full&sslcert=${CERT}`, 'sets sslcert without sslkey', 'add sslkey='],
    [
      `sslmode=verify-full&sslrootcert=${MISSING}`,
      `names sslrootcert=${MISSING}, which the worker cannot read (ENOENT)`,
      'set sslrootcert to the path of a PEM file',
    ],
  ])('refuses %s, naming the parameter and the fix', (query, problem, fix) => {
    let caught: unknown;
    try {
      libpqClientConfig(`${base}?${query}`, NO_ENV);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConnectionUrlError);
    expect((caught as ConnectionUrlError).problem).toContain(problem);
    expect((caught as ConnectionUrlError).fix).toContain(fix);
  });

  it('accepts uselibpqcompat=true, which is what it always gets', () => {
    expect(pgSsl(`${base}?sslmode=require&uselibpqcompat=true`)).toEqual({ rejectUnauthorized: false });
  });
});

describe('MariaDB ssl-mode and its files', () => {
  const base = 'mysql://etl@db.example:3306/sales';
  const ssl = (query: string) => mariadbPoolOptions(`${base}${query}`, 'pw').ssl;

  it('without ssl-mode, or DISABLED: no TLS', () => {
    expect(ssl('')).toBeUndefined();
    expect(ssl('?ssl-mode=DISABLED')).toBeUndefined();
  });

  it('PREFERRED and REQUIRED: encrypted, the certificate not checked', () => {
    expect(ssl('?ssl-mode=PREFERRED')).toEqual({ rejectUnauthorized: false, verifyIdentity: false });
    expect(ssl('?ssl-mode=required')).toEqual({ rejectUnauthorized: false, verifyIdentity: false });
  });

  it('VERIFY_CA: the chain checked against ssl-ca, not the host name', () => {
    expect(ssl(`?ssl-mode=VERIFY_CA&ssl-ca=${CA}`)).toEqual({
      rejectUnauthorized: true,
      verifyIdentity: false,
      ca: expect.stringContaining('ca'),
    });
  });

  it('VERIFY_IDENTITY: the chain and the host name checked, against ssl-ca or the system’s CAs; a client certificate', () => {
    expect(ssl(`?ssl-mode=VERIFY_IDENTITY&ssl-ca=${CA}`)).toEqual({
      rejectUnauthorized: true,
      verifyIdentity: true,
      ca: expect.stringContaining('ca'),
    });
    expect(ssl('?ssl-mode=VERIFY_IDENTITY')).toEqual({ rejectUnauthorized: true, verifyIdentity: true });
    expect(ssl(`?ssl-mode=VERIFY_IDENTITY&ssl-ca=${CA}&ssl-cert=${CERT}&ssl-key=${KEY}`)).toMatchObject({
      cert: expect.stringContaining('client'),
      key: expect.stringContaining('key'),
    });
  });

  it('keeps the rest of the options', () => {
    expect(mariadbPoolOptions(`${base}?ssl-mode=REQUIRED`, 'pw')).toMatchObject({
      host: 'db.example',
      port: 3306,
      user: 'etl',
      database: 'sales',
      password: 'pw',
      charset: 'utf8mb4_bin',
    });
  });

  it.each([
    [
      '?sslmode=REQUIRED',
      'has the parameter sslmode, which is not read',
      "remove it; did you mean 'ssl-mode'? the parameters read are ssl-mode, ssl-ca, ssl-cert, ssl-key",
    ],
    [
      '?connectTimeout=5',
      'has the parameter connectTimeout, which is not read',
      'the parameters read are ssl-mode, ssl-ca, ssl-cert, ssl-key',
    ],
    [
      '?ssl-mode=VERIFY_FULL',
      'sets ssl-mode=VERIFY_FULL, which is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY',
      'set ssl-mode to one of',
    ],
    [`?ssl-ca=${CA}`, 'sets ssl-ca without ssl-mode', 'add ssl-mode=VERIFY_IDENTITY'],
    [
      `?ssl-mode=REQUIRED&ssl-ca=${CA}`,
      'sets ssl-ca with ssl-mode=REQUIRED, which does not check the server',
      'use ssl-mode=VERIFY_IDENTITY (or VERIFY_CA)',
    ],
    ['?ssl-mode=VERIFY_CA', 'sets ssl-mode=VERIFY_CA without ssl-ca', 'add ssl-ca='],
    [`?ssl-mode=DISABLED&ssl-ca=${CA}`, 'sets ssl-ca with ssl-mode=DISABLED', 'remove ssl-ca'],
    [`?ssl-mode=VERIFY_IDENTITY&ssl-key=${KEY}`, 'sets ssl-key without ssl-cert', 'add ssl-cert'],
    [
      `?ssl-mode=VERIFY_IDENTITY&ssl-ca=${MISSING}`,
      `names ssl-ca=${MISSING}, which the worker cannot read (ENOENT)`,
      'set ssl-ca to the path of a PEM file',
    ],
    ['?ssl-mode=REQUIRED&ssl-mode=DISABLED', 'sets ssl-mode more than once', 'keep one ssl-mode'],
  ])('refuses %s, naming the parameter and the fix', (query, problem, fix) => {
    let caught: unknown;
    try {
      mariadbPoolOptions(`${base}${query}`, 'pw');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConnectionUrlError);
    expect((caught as ConnectionUrlError).problem).toContain(problem);
    expect((caught as ConnectionUrlError).fix).toContain(fix);
  });
});

describe('Oracle TCPS', () => {
  it('writes protocol=tcps as Easy Connect’s tcps:// prefix and passes its TLS parameters through', () => {
    expect(oraclePoolSettings('oracle://etl@db.example:2484/FREEPDB1?protocol=tcps', 'pw')).toEqual({
      user: 'etl',
      password: 'pw',
      connectString: 'tcps://db.example:2484/FREEPDB1',
    });
    expect(
      oraclePoolSettings(
        'oracle://etl@db.example:2484/FREEPDB1?protocol=TCPS&wallet_location=/etc/oracle/wallet&ssl_server_dn_match=on',
        'pw',
      ).connectString,
    ).toBe('tcps://db.example:2484/FREEPDB1?wallet_location=/etc/oracle/wallet&ssl_server_dn_match=on');
    expect(
      oraclePoolSettings('oracle://etl@db.example:1521/FREEPDB1?protocol=tcp&expire_time=2', 'pw').connectString,
    ).toBe('db.example:1521/FREEPDB1?expire_time=2');
  });

  it('double-quotes a value with separators in it (a certificate’s DN), as Easy Connect reads it', () => {
    const url = `oracle://etl@db.example:2484/FREEPDB1?protocol=tcps&ssl_server_cert_dn=${encodeURIComponent('CN=db.example,O=Example Corp')}`;
    expect(oraclePoolSettings(url, 'pw').connectString).toBe(
      'tcps://db.example:2484/FREEPDB1?ssl_server_cert_dn="CN=db.example,O=Example Corp"',
    );
  });

  it.each([
    ['?wallet_location=/w', 'sets wallet_location, which is read only over TLS', 'add protocol=tcps'],
    ['?ssl_server_dn_match=on', 'sets ssl_server_dn_match, which is read only over TLS', 'add protocol=tcps'],
    ['?protocol=ipc', 'sets protocol=ipc', 'set protocol=tcps for TLS'],
    [
      '?protocol=tcps&ssl_server_cert_dn=%22x%22',
      'sets ssl_server_cert_dn to a value with a double quote in it',
      'write ssl_server_cert_dn without double quotes',
    ],
  ])('refuses %s, naming the parameter and the fix', (query, problem, fix) => {
    expect(() => oraclePoolSettings(`oracle://etl@db.example:2484/FREEPDB1${query}`, 'pw')).toThrow(
      `${problem}. Fix: ${fix}`,
    );
  });
});

describe('TLS failures, named with the connection and the fix, never retried', () => {
  it('a CONURL refused as its pool opens is a ConfigError naming the connection', () => {
    const databases = new DatabaseRegistry({ lockTimeoutMs: 1000 });
    const spec = { conid: 'DWH', dbtyp: 'POSTGRES', url: 'postgres://etl@h/dwh?sslmode=verify-ca' };
    let caught: unknown;
    try {
      databases.target('M', spec);
    } catch (err) {
      caught = err;
    }
    const failure = toFailure(caught) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    expect(failure.message).toBe(
      "Mapping M: TRGCONID uses connection 'DWH', whose CONURL sets sslmode=verify-ca without sslrootcert. " +
        "Fix: in CONURL of connection 'DWH' in DMS_DBCONDTLS, add sslrootcert=<the file of the CA that signed the server's certificate>, or use sslmode=verify-full to check against the system's trusted CAs",
    );
  });

  it.each([
    [
      'POSTGRES',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'self-signed certificate in certificate chain',
      "set sslrootcert to the file of the CA that signed the server's certificate",
    ],
    [
      'POSTGRES',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      'or use sslmode=verify-ca',
    ],
    [
      'MARIADB',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate',
      "set ssl-ca to the file of the CA that signed the server's certificate",
    ],
    ['MARIADB', 'HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection', 'or set ssl-mode=DISABLED'],
  ])('%s: %s', (dbtyp, code, message, fix) => {
    const failure = toFailure(
      connectionFailure('M', 'SRCCONID', { conid: 'SRC', dbtyp }, Object.assign(new Error(message), { code })),
    ) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    expect(failure.message).toMatch(
      new RegExp(
        `^Mapping M: SRCCONID uses connection 'SRC', whose TLS handshake failed: ${message.replace(/[()/]/g, '\\$&')}\\. Fix: in CONURL of connection 'SRC' in DMS_DBCONDTLS, `,
      ),
    );
    expect(failure.message).toContain(fix);
  });

  it.each([
    [
      'self-signed certificate in certificate chain',
      "set ssl-ca to the file of the CA that signed the server's certificate",
    ],
    [
      "Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list: 127.0.0.1",
      'or use ssl-mode=VERIFY_CA',
    ],
  ])("MARIADB as mysql2 reports it (its own code HANDSHAKE_SSL_ERROR, Node's message): %s", (message, fix) => {
    const mysql2 = Object.assign(new Error(message), { code: 'HANDSHAKE_SSL_ERROR', fatal: true });
    const failure = toFailure(
      connectionFailure('M', 'TRGCONID', { conid: 'DWH', dbtyp: 'MARIADB' }, loginError(mysql2, true)),
    ) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    expect(failure.message).toContain(
      `Mapping M: TRGCONID uses connection 'DWH', whose TLS handshake failed: ${message}. Fix: in CONURL of connection 'DWH' in DMS_DBCONDTLS, `,
    );
    expect(failure.message).toContain(fix);
  });

  it('a server without TLS, for node-postgres (which says so only in its message)', () => {
    const failure = toFailure(
      connectionFailure(
        'M',
        'SRCCONID',
        { conid: 'SRC', dbtyp: 'POSTGRES' },
        new Error('The server does not support SSL connections'),
      ),
    ) as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('turn ssl on in the server, or set sslmode=disable');
  });

  it('DMS_METADATA_URL: its refused setting and its TLS failure name the variable', () => {
    expect(
      metadataLoginError(
        'postgres://meta@h/dms?sslmode=verify-ca',
        new ConnectionUrlError('sets sslmode=verify-ca without sslrootcert', 'add sslrootcert'),
      ).message,
    ).toBe(
      'DMS_METADATA_URL=postgres://meta@h/dms?sslmode=verify-ca sets sslmode=verify-ca without sslrootcert. Fix: in DMS_METADATA_URL, add sslrootcert',
    );
    expect(
      metadataLoginError(
        'postgres://meta@h/dms',
        Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      ).message,
    ).toBe(
      "Cannot open a TLS session with the metadata database at DMS_METADATA_URL=postgres://meta@h/dms: self-signed certificate in certificate chain. Fix: in DMS_METADATA_URL, set sslrootcert to the file of the CA that signed the server's certificate",
    );
  });
});
