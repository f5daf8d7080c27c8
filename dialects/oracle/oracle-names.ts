// How Oracle resolves a name written in metadata: unquoted names fold to upper case
// (TRANSACTION_ID, SALES_FACT, as the earlier implementation's users write them), "quoted"
// names are taken as written; at most 128 bytes (Oracle 12.2 and later).
import { IdentifierError, parseIdentifier } from '../../common/identifiers';

export function resolveOracleIdentifier(raw: string): string {
  const name = parseIdentifier(raw, (n) => n.toUpperCase(), 128);
  // Oracle names can hold no double quote at all, quoted or not.
  if (name.includes('"'))
    throw new IdentifierError(raw, `"${raw}" contains a double quote, which no Oracle name can hold`);
  return name;
}
