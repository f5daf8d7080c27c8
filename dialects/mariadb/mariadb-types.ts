// MariaDB column types, from a result's column metadata: the name for messages, the type
// family the compatibility check compares, and the cast a key bound needs so that MariaDB
// compares it as the column's type (a string bound against an integer column would be
// compared as a double, losing BIGINT precision).
import type { FieldPacket } from 'mysql2';
import type { ColumnInfo, TypeFamily } from '../dialect';

const UNSIGNED = 32;
const BINARY_CHARSET = 63;

interface TypeInfo {
  name: string;
  family: TypeFamily;
  /** How a key bound is cast to compare as this type; null: compared as given. */
  cast: string | null;
}

function flags(field: FieldPacket): number {
  return typeof field.flags === 'number' ? field.flags : 0;
}

export function typeOf(field: FieldPacket): TypeInfo {
  const info = baseTypeOf(field);
  // MariaDB's JSON is LONGTEXT with a check; the extended metadata says it is JSON.
  if (field.extendedFormat === 'json') return { name: 'json', family: 'json', cast: null };
  // TINYINT(1) is how MariaDB writes BOOLEAN.
  if (field.columnType === 1 && field.columnLength === 1) return { ...info, family: 'boolean' };
  return info;
}

function baseTypeOf(field: FieldPacket): TypeInfo {
  const unsigned = (flags(field) & UNSIGNED) !== 0;
  const binary = field.characterSet === BINARY_CHARSET;
  const integer = (name: string): TypeInfo => ({ name: `${name}${unsigned ? ' unsigned' : ''}`, family: 'number', cast: unsigned ? 'UNSIGNED' : 'SIGNED' });
  const decimals = field.decimals > 0 && field.decimals < 31 ? field.decimals : 0;
  switch (field.columnType) {
    case 1: return integer('tinyint');
    case 2: return integer('smallint');
    case 9: return integer('mediumint');
    case 3: return integer('int');
    case 8: return integer('bigint');
    case 13: return { name: 'year', family: 'number', cast: 'UNSIGNED' };
    case 0:
    case 246: {
      const precision = (field.columnLength ?? 0) - (decimals > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      return { name: `decimal(${precision},${decimals})`, family: 'number', cast: 'DECIMAL(65,30)' };
    }
    case 4: return { name: 'float', family: 'number', cast: 'DOUBLE' };
    case 5: return { name: 'double', family: 'number', cast: 'DOUBLE' };
    case 10:
    case 14: return { name: 'date', family: 'datetime', cast: 'DATE' };
    case 12: return { name: `datetime(${decimals})`, family: 'datetime', cast: 'DATETIME(6)' };
    case 7: return { name: `timestamp(${decimals})`, family: 'datetime', cast: 'DATETIME(6)' };
    case 11: return { name: `time(${decimals})`, family: 'datetime', cast: 'TIME(6)' };
    case 16: return { name: `bit(${field.columnLength ?? 1})`, family: 'bits', cast: null };
    case 245: return { name: 'json', family: 'json', cast: null };
    case 247: return { name: 'enum', family: 'string', cast: null };
    case 248: return { name: 'set', family: 'string', cast: null };
    case 249:
    case 250:
    case 251:
    case 252: return binary ? { name: 'blob', family: 'bytes', cast: null } : { name: 'text', family: 'string', cast: null };
    case 15:
    case 253: return binary ? { name: 'varbinary', family: 'bytes', cast: null } : { name: 'varchar', family: 'string', cast: null };
    case 254: return binary ? { name: 'binary', family: 'bytes', cast: null } : { name: 'char', family: 'string', cast: null };
    default: return { name: field.typeName?.toLowerCase() ?? `type ${field.columnType}`, family: 'other', cast: null };
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
export function tableColumnInfo(c: TableColumn): ColumnInfo {
  const type = c.columnType.toLowerCase();
  return { name: c.name, type, family: tableFamily(c.dataType.toLowerCase(), type) };
}

function tableFamily(dataType: string, type: string): TypeFamily {
  if (/^tinyint\(1\)/.test(type)) return 'boolean';
  if (NUMERIC.has(dataType)) return 'number';
  if (DATE_TIME.has(dataType)) return 'datetime';
  if (BYTES_TYPES.has(dataType)) return 'bytes';
  if (dataType === 'bit') return 'bits';
  if (/char|text|enum|set/.test(dataType)) return 'string';
  return 'other';
}
