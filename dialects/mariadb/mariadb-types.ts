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
  /**
   * How a key of this type travels exactly: 'bytes', bound from RowBatch's \x hex back into
   * bytes; 'float', read as a DOUBLE (FLOAT's own text has six digits, not its stored value)
   * and bound as one, which the server compares with the FLOAT exactly; 'bits', bound from its
   * string of 0 and 1 as the number the BIT holds (a string would compare as text).
   */
  key?: 'bytes' | 'float' | 'bits';
  /** Why a key of this type cannot be compared the way it sorts (refused at planning); absent: it can. */
  inexact?: string;
}

function flags(field: FieldPacket): number {
  return typeof field.flags === 'number' ? field.flags : 0;
}

export function typeOf(field: FieldPacket): TypeInfo {
  const info = baseTypeOf(field);
  // MariaDB's JSON is LONGTEXT with a check; the extended metadata says it is JSON.
  if (field.extendedFormat === 'json') return { name: 'json', family: 'json', cast: null };
  // UUID, INET4 and INET6 travel as strings; the extended metadata names the type. A bound
  // is compared as the column's type (MariaDB converts the text), so it needs no cast.
  if (field.extendedTypeName === 'uuid') return { name: 'uuid', family: 'uuid', cast: null };
  if (field.extendedTypeName === 'inet6' || field.extendedTypeName === 'inet4')
    return { name: field.extendedTypeName, family: 'network', cast: null };
  // TINYINT(1) is how MariaDB writes BOOLEAN.
  if (field.columnType === 1 && field.columnLength === 1) return { ...info, family: 'boolean' };
  return info;
}

const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const ENUM_OR_SET_WHY =
  'MariaDB sorts an ENUM or SET by its position in the type but compares a bound as text, so batches cut by it would skip or repeat rows';

/** CHAR and VARCHAR, and the ENUM and SET columns the protocol sends as strings with a flag. */
function stringOrEnum(field: FieldPacket, name: string): TypeInfo {
  if (flags(field) & ENUM_FLAG) return { name: 'enum', family: 'string', cast: null, inexact: ENUM_OR_SET_WHY };
  if (flags(field) & SET_FLAG) return { name: 'set', family: 'string', cast: null, inexact: ENUM_OR_SET_WHY };
  return { name, family: 'string', cast: null };
}

function baseTypeOf(field: FieldPacket): TypeInfo {
  const unsigned = (flags(field) & UNSIGNED) !== 0;
  const binary = field.characterSet === BINARY_CHARSET;
  const integer = (name: string): TypeInfo => ({
    name: `${name}${unsigned ? ' unsigned' : ''}`,
    family: 'number',
    cast: unsigned ? 'UNSIGNED' : 'SIGNED',
  });
  const decimals = field.decimals > 0 && field.decimals < 31 ? field.decimals : 0;
  switch (field.columnType) {
    case 1:
      return integer('tinyint');
    case 2:
      return integer('smallint');
    case 9:
      return integer('mediumint');
    case 3:
      return integer('int');
    case 8:
      return integer('bigint');
    case 13:
      return { name: 'year', family: 'number', cast: 'UNSIGNED' };
    case 0:
    case 246: {
      // A bound in the column's own precision and scale (up to 65 digits, 38 decimals): a
      // wider or narrower DECIMAL would round or clip a key that fills the column.
      const scale = Math.min(Math.max(field.decimals ?? 0, 0), 38);
      const precision = Math.min(Math.max((field.columnLength ?? 0) - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1), 1), 65);
      return {
        name: `decimal(${precision},${scale})${unsigned ? ' unsigned' : ''}`,
        family: 'number',
        cast: `DECIMAL(${Math.max(precision, scale)},${scale})`,
      };
    }
    case 4:
      return { name: 'float', family: 'number', cast: 'DOUBLE', key: 'float' };
    case 5:
      return { name: 'double', family: 'number', cast: 'DOUBLE' };
    case 10:
    case 14:
      return { name: 'date', family: 'datetime', cast: 'DATE' };
    case 12:
      return { name: `datetime(${decimals})`, family: 'datetime', cast: 'DATETIME(6)' };
    case 7:
      return { name: `timestamp(${decimals})`, family: 'datetime', cast: 'DATETIME(6)' };
    case 11:
      return { name: `time(${decimals})`, family: 'datetime', cast: 'TIME(6)' };
    case 16:
      return { name: `bit(${field.columnLength ?? 1})`, family: 'bits', cast: null, key: 'bits' };
    case 245:
      return { name: 'json', family: 'json', cast: null };
    case 247:
      return { name: 'enum', family: 'string', cast: null, inexact: ENUM_OR_SET_WHY };
    case 248:
      return { name: 'set', family: 'string', cast: null, inexact: ENUM_OR_SET_WHY };
    case 249:
    case 250:
    case 251:
    case 252:
      return binary ? { name: 'blob', family: 'bytes', cast: null } : { name: 'text', family: 'string', cast: null };
    case 15:
    case 253:
      return binary ? { name: 'varbinary', family: 'bytes', cast: null, key: 'bytes' } : stringOrEnum(field, 'varchar');
    case 254:
      return binary ? { name: 'binary', family: 'bytes', cast: null, key: 'bytes' } : stringOrEnum(field, 'char');
    case 255:
      return { name: 'geometry', family: 'other', cast: null, inexact: 'a spatial type has no order a key can follow' };
    default:
      return { name: field.typeName?.toLowerCase() ?? `type ${field.columnType}`, family: 'other', cast: null };
  }
}

/** A target column as information_schema.COLUMNS describes it. */
export interface TableColumn {
  name: string;
  /** DATA_TYPE: the type's bare name (int, varchar, datetime, ...). */
  dataType: string;
  /** COLUMN_TYPE: the type as declared (tinyint(1), bit(5), decimal(12,2) unsigned, ...). */
  columnType: string;
  /** COLLATION_NAME: a text column's collation (null for others). */
  collation?: string | null;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double', 'year']);
const DATE_TIME = new Set(['date', 'datetime', 'timestamp', 'time']);
export const BYTES_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/**
 * A target column's type in the terms the compatibility check compares (see typeOf). A
 * TINYINT(1) is MariaDB's BOOLEAN, of the family 'boolean'; JSON is LONGTEXT to
 * information_schema, a string that takes any text.
 */
export function tableColumnInfo(c: TableColumn): ColumnInfo {
  const type = c.columnType.toLowerCase();
  const collation = c.collation ?? null;
  // A binary collation compares characters (PAD SPACE ones ignore trailing spaces: the
  // batch's own check catches those); _ci, _ai and the like call variants equal.
  return {
    name: c.name,
    type,
    family: tableFamily(c.dataType.toLowerCase(), type),
    collation,
    exactText: collation === null || /(_bin|^binary)$/.test(collation),
  };
}

function tableFamily(dataType: string, type: string): TypeFamily {
  if (/^tinyint\(1\)/.test(type)) return 'boolean';
  if (NUMERIC.has(dataType)) return 'number';
  if (DATE_TIME.has(dataType)) return 'datetime';
  if (BYTES_TYPES.has(dataType)) return 'bytes';
  if (dataType === 'bit') return 'bits';
  if (dataType === 'uuid') return 'uuid';
  if (dataType === 'inet6' || dataType === 'inet4') return 'network';
  if (/char|text|enum|set/.test(dataType)) return 'string';
  return 'other';
}
