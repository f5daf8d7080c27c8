// MariaDB column types, from a result's column metadata: the name for messages, the type
// family the compatibility check compares, and the cast a key bound needs so that MariaDB
// compares it as the column's type (a string bound against an integer column would be
// compared as a double, losing BIGINT precision).
import type { FieldPacket } from 'mysql2';
import type { TypeFamily } from '../dialect';

const UNSIGNED = 32;
const BINARY_CHARSET = 63;

interface TypeInfo {
  name: string;
  /** See ColumnInfo.family. */
  family?: TypeFamily;
  /** The same letters as PostgreSQL's typcategory: N numeric, S string, D date/time, V bit, U other. */
  category: string;
  /** How a key bound is cast to compare as this type; null: compared as given. */
  cast: string | null;
}

function flags(field: FieldPacket): number {
  return typeof field.flags === 'number' ? field.flags : 0;
}

export function typeOf(field: FieldPacket): TypeInfo {
  const info = baseTypeOf(field);
  // MariaDB's JSON is LONGTEXT with a check; the extended metadata says it is JSON.
  if (field.extendedFormat === 'json') return { name: 'json', category: 'U', cast: null, family: 'json' };
  if (info.category === 'U' && /blob|binary/.test(info.name)) return { ...info, family: 'bytes' };
  // TINYINT(1) is how MariaDB writes BOOLEAN.
  if (field.columnType === 1 && field.columnLength === 1) return { ...info, family: 'boolean' };
  return info;
}

function baseTypeOf(field: FieldPacket): TypeInfo {
  const unsigned = (flags(field) & UNSIGNED) !== 0;
  const binary = field.characterSet === BINARY_CHARSET;
  const integer = (name: string): TypeInfo => ({ name: `${name}${unsigned ? ' unsigned' : ''}`, category: 'N', cast: unsigned ? 'UNSIGNED' : 'SIGNED' });
  const decimals = field.decimals > 0 && field.decimals < 31 ? field.decimals : 0;
  switch (field.columnType) {
    case 1: return integer('tinyint');
    case 2: return integer('smallint');
    case 9: return integer('mediumint');
    case 3: return integer('int');
    case 8: return integer('bigint');
    case 13: return { name: 'year', category: 'N', cast: 'UNSIGNED' };
    case 0:
    case 246: {
      const precision = (field.columnLength ?? 0) - (decimals > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      return { name: `decimal(${precision},${decimals})`, category: 'N', cast: 'DECIMAL(65,30)' };
    }
    case 4: return { name: 'float', category: 'N', cast: 'DOUBLE' };
    case 5: return { name: 'double', category: 'N', cast: 'DOUBLE' };
    case 10:
    case 14: return { name: 'date', category: 'D', cast: 'DATE' };
    case 12: return { name: `datetime(${decimals})`, category: 'D', cast: 'DATETIME(6)' };
    case 7: return { name: `timestamp(${decimals})`, category: 'D', cast: 'DATETIME(6)' };
    case 11: return { name: `time(${decimals})`, category: 'D', cast: 'TIME(6)' };
    case 16: return { name: `bit(${field.columnLength ?? 1})`, category: 'V', cast: null };
    case 245: return { name: 'json', category: 'U', cast: null };
    case 247: return { name: 'enum', category: 'S', cast: null };
    case 248: return { name: 'set', category: 'S', cast: null };
    case 249:
    case 250:
    case 251:
    case 252: return binary ? { name: 'blob', category: 'U', cast: null } : { name: 'text', category: 'S', cast: null };
    case 15:
    case 253: return binary ? { name: 'varbinary', category: 'U', cast: null } : { name: 'varchar', category: 'S', cast: null };
    case 254: return binary ? { name: 'binary', category: 'U', cast: null } : { name: 'char', category: 'S', cast: null };
    default: return { name: field.typeName?.toLowerCase() ?? `type ${field.columnType}`, category: 'U', cast: null };
  }
}

/** A target column as information_schema.COLUMNS describes it. */
export interface TableColumn {
  name: string;
  /** DATA_TYPE: the type's bare name (int, varchar, datetime, ...). */
  dataType: string;
  /** COLUMN_TYPE: the type as declared (tinyint(1), bit(5), decimal(12,2) unsigned, ...). */
  columnType: string;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'year']);
const DATE_TIME = new Set(['date', 'datetime', 'timestamp', 'time']);
const BYTES_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/**
 * A target column's type in the terms the compatibility check compares (see typeOf). A
 * TINYINT(1) is MariaDB's BOOLEAN, of the family 'boolean'; JSON is LONGTEXT to
 * information_schema, a string that takes any text.
 */
export function tableColumnInfo(c: TableColumn): { name: string; type: string; category: string; family?: TypeFamily } {
  const type = c.columnType.toLowerCase();
  const dataType = c.dataType.toLowerCase();
  if (/^tinyint\(1\)/.test(type)) return { name: c.name, type, category: 'N', family: 'boolean' };
  if (NUMERIC.has(dataType)) return { name: c.name, type, category: 'N' };
  if (DATE_TIME.has(dataType)) return { name: c.name, type, category: 'D' };
  if (BYTES_TYPES.has(dataType)) return { name: c.name, type, category: 'U', family: 'bytes' };
  if (dataType === 'bit') return { name: c.name, type, category: 'V' };
  if (/char|text|enum|set/.test(dataType)) return { name: c.name, type, category: 'S' };
  return { name: c.name, type, category: 'U' };
}
