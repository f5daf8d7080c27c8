// The mappings file of `dms mapping apply`, read strictly: a key nothing reads is an error with
// its line and the nearest known key, and a file with any problem yields nothing to save.
import { describe, expect, it } from 'vitest';
import { readCatalog } from '../../client/catalog-file';

const MAPPING = `mappings:
  - mapref: TOUR_SALES
    srcconid: TOUR_SRC
    srcquery: SELECT * FROM sales
    trgconid: TOUR_TGT
    trgschm: public
    trgtbnm: sales_copy
    chkpntstrategy: KEY
    chkpntcolumn: SOLD_AT
`;

/** The tour's mapping with one more line (at line 10) or one line replaced. */
const withLine = (line: string, replacing?: string) =>
  replacing ? MAPPING.replace(replacing, line) : `${MAPPING}    ${line}\n`;

function refusal(text: string): string {
  try {
    readCatalog('m.yaml', text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('the mappings file', () => {
  it('reads a good file, keys in either case, with the columns’ defaults', () => {
    const { mappings, connections } = readCatalog(
      'm.yaml',
      `${MAPPING.replace('mapref', 'MAPREF')}connections:\n  - { CONID: C, dbtyp: postgres, conurl: "postgres://u@h/db" }\n`,
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({
      mapref: 'TOUR_SALES',
      loadmode: 'APPEND',
      bulklmt: 1000,
      chkpntcolumn: 'SOLD_AT',
    });
    expect(connections).toEqual([{ conid: 'C', dbtyp: 'POSTGRES', conurl: 'postgres://u@h/db' }]);
  });

  it.each([
    [
      'a misspelt LOADMODE',
      withLine('loadmod: TRUNCATE'),
      "m.yaml:10: mappings.0 (TOUR_SALES): unknown key 'loadmod' (did you mean 'loadmode'?). Nothing was saved",
    ],
    [
      'a misspelt BULKLMT',
      withLine('bulklimit: 5000'),
      "m.yaml:10: mappings.0 (TOUR_SALES): unknown key 'bulklimit' (did you mean 'bulklmt'?). Nothing was saved",
    ],
    [
      'a misspelt required key',
      withLine('chkpntcolum: SOLD_AT', 'chkpntcolumn: SOLD_AT'),
      "m.yaml:9: mappings.0 (TOUR_SALES): unknown key 'chkpntcolum' (did you mean 'chkpntcolumn'?). Nothing was saved",
    ],
    [
      'an upper-case typo',
      withLine('LOADMOD: TRUNCATE'),
      "m.yaml:10: mappings.0 (TOUR_SALES): unknown key 'loadmod' (did you mean 'loadmode'?). Nothing was saved",
    ],
    [
      'a key far from any',
      withLine('colour: blue'),
      "m.yaml:10: mappings.0 (TOUR_SALES): unknown key 'colour' (known keys: mapref, srcconid,",
    ],
    [
      'a misspelt top-level key',
      `${MAPPING}conections: []\n`,
      "m.yaml:10: the file: unknown key 'conections' (did you mean 'connections'?). Nothing was saved",
    ],
    [
      'a misspelt connection key',
      `${MAPPING}connections:\n  - { conid: C, dbtyp: POSTGRES, conurl: "postgres://u@h/db", pwdenvv: X }\n`,
      "m.yaml:11: connections.0 (C): unknown key 'pwdenvv' (did you mean 'pwdenv'?). Nothing was saved",
    ],
    [
      'a key given twice in two cases',
      withLine('LOADMODE: UPSERT\n    loadmode: APPEND'),
      "m.yaml:11: mappings.0.loadmode: 'loadmode' is given twice (first on line 10; keys are read in either case). Nothing was saved",
    ],
    [
      'a bad value',
      withLine('bulklmt: 0'),
      'm.yaml:10: mappings.0 (TOUR_SALES).bulklmt: must be a batch size from 1 to 1000000. Nothing was saved',
    ],
    [
      'a missing required key',
      MAPPING.replace('    chkpntcolumn: SOLD_AT\n', ''),
      "m.yaml:2: mappings.0 (TOUR_SALES).chkpntcolumn: is empty but CHKPNTSTRATEGY is 'KEY'. Nothing was saved",
    ],
    [
      'a missing mapref',
      MAPPING.replace('mapref: TOUR_SALES', 'name: TOUR_SALES'),
      "m.yaml:2: mappings.0: unknown key 'name'",
    ],
    [
      'a connection with a password',
      `${MAPPING}connections:\n  - { conid: C, dbtyp: POSTGRES, conurl: "postgres://u:secret@h/db" }\n`,
      'm.yaml:11: connections.0.conurl: carries a password: remove it',
    ],
    ['text that is not YAML', 'mappings:\n  - mapref: [\n', 'm.yaml:3: is not YAML (or JSON): '],
  ])('refuses %s, naming its line', (_, text, message) => {
    const got = refusal(text);
    expect(got.startsWith(message), got).toBe(true);
    expect(got).not.toContain('secret');
  });

  it('names every problem at once, in the order of the file', () => {
    const got = refusal(`${withLine('bulklimit: 5000')}    loadmod: TRUNCATE\nconections: []\n`);
    expect(got.split('\n')).toEqual([
      'm.yaml: 3 problems, nothing was saved:',
      "  m.yaml:10: mappings.0 (TOUR_SALES): unknown key 'bulklimit' (did you mean 'bulklmt'?)",
      "  m.yaml:11: mappings.0 (TOUR_SALES): unknown key 'loadmod' (did you mean 'loadmode'?)",
      "  m.yaml:12: the file: unknown key 'conections' (did you mean 'connections'?)",
    ]);
  });

  it('reads JSON too, with its lines', () => {
    const json = JSON.stringify(
      {
        mappings: [
          {
            mapref: 'A',
            srcconid: 'S',
            srcquery: 'q',
            trgconid: 'T',
            trgschm: 'p',
            trgtbnm: 't',
            chkpntstrategy: 'NONE',
            lodmode: 'APPEND',
          },
        ],
      },
      null,
      2,
    );
    expect(refusal(json)).toBe(
      "m.yaml:11: mappings.0 (A): unknown key 'lodmode' (did you mean 'loadmode'?). Nothing was saved",
    );
  });
});
