// The search attributes that let the Temporal Web UI list and filter runs by mapping.
// The dev-server script registers them; on a real cluster, create them once with
//   temporal operator search-attribute create --name DmsMapref --type Keyword   (and the rest)
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DMS_MAPREF = defineSearchAttributeKey('DmsMapref', SearchAttributeType.KEYWORD);
export const DMS_STATUS = defineSearchAttributeKey('DmsStatus', SearchAttributeType.KEYWORD);
export const DMS_ROWS_LOADED = defineSearchAttributeKey('DmsRowsLoaded', SearchAttributeType.INT);

/** Names and Temporal CLI type names, for registering and for checking at worker start. */
export const SEARCH_ATTRIBUTES: { name: string; type: 'Keyword' | 'Int' }[] = [
  { name: DMS_MAPREF.name, type: 'Keyword' },
  { name: DMS_STATUS.name, type: 'Keyword' },
  { name: DMS_ROWS_LOADED.name, type: 'Int' },
];
