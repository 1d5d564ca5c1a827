/**
 * The per-layer cost table: latency (cycles at 1 GHz) and energy (nJ) of every layer of every model
 * on every accelerator class ("<DF>_<pes>pe_bw<bw>", e.g. WS_2048pe_bw128).
 *
 * Read from MAESTRO-style CSVs with the header of layer_costs_maestro.csv:
 *   model,layer_idx[,layer_name,type,N,K,C,Y,X,R,S,macs],<class>_cycles...,<class>_energy_nJ...
 * (any subset of classes, each with both its columns). Rows are checked against the known models:
 * the model must exist, layer_idx must be one of its layers, layer_name (when given) must match,
 * each layer appears once, every cost cell is a non-negative decimal number.
 * Storage is dense: per model and class, two Float64Arrays indexed by layer, NaN = no cost.
 */
import type { LayerCost, Model } from "../domain/types";
import { FileLines, csvRecords, textLines } from "./csv";
import type { CsvRecord } from "./csv";
import { dataError, listNames, showValue } from "./errors";

export interface CostTable {
  /** Every accelerator class with at least one cost, in first-seen column order. */
  readonly classes: ReadonlyArray<string>;
  /** Cost of one layer on one class; undefined when the table has none. */
  get(model: string, layerIndex: number, costClass: string): LayerCost | undefined;
  /** Models with at least one cost row. */
  models(): ReadonlyArray<string>;
  /** Number of layers of the model the table is laid out for (the model's length); 0 if absent. */
  layerCount(model: string): number;
}

/** Class name of a dataflow at a PE count and NoC bandwidth: `WS_2048pe_bw128`. */
export const costClassName = (dataflow: string, numPes: number, nocBw: number): string =>
  `${dataflow}_${numPes}pe_bw${nocBw}`;

interface ClassColumns {
  readonly cycles: Float64Array;
  readonly energyNJ: Float64Array;
}

interface ModelColumns {
  readonly layerCount: number;
  readonly byClass: Map<string, ClassColumns>;
}

class DenseCostTable implements CostTable {
  constructor(
    readonly classes: ReadonlyArray<string>,
    private readonly byModel: ReadonlyMap<string, ModelColumns>,
  ) {}

  get(model: string, layerIndex: number, costClass: string): LayerCost | undefined {
    const columns = this.byModel.get(model)?.byClass.get(costClass);
    if (columns === undefined) return undefined;
    const cycles = columns.cycles[layerIndex];
    const energyNJ = columns.energyNJ[layerIndex];
    if (cycles === undefined || energyNJ === undefined || Number.isNaN(cycles) || Number.isNaN(energyNJ)) {
      return undefined;
    }
    return { cycles, energyNJ };
  }

  models(): ReadonlyArray<string> {
    return [...this.byModel.keys()];
  }

  layerCount(model: string): number {
    return this.byModel.get(model)?.layerCount ?? 0;
  }
}

/** Accumulates costs, then freezes them into a CostTable. */
class CostTableBuilder {
  private readonly classes: string[] = [];
  private readonly byModel = new Map<string, ModelColumns>();

  addClass(costClass: string): void {
    if (!this.classes.includes(costClass)) this.classes.push(costClass);
  }

  set(model: string, layerCount: number, layerIndex: number, costClass: string, cost: LayerCost): void {
    this.addClass(costClass);
    let modelColumns = this.byModel.get(model);
    if (modelColumns === undefined) {
      modelColumns = { layerCount, byClass: new Map() };
      this.byModel.set(model, modelColumns);
    }
    let columns = modelColumns.byClass.get(costClass);
    if (columns === undefined) {
      columns = { cycles: nanArray(modelColumns.layerCount), energyNJ: nanArray(modelColumns.layerCount) };
      modelColumns.byClass.set(costClass, columns);
    }
    columns.cycles[layerIndex] = cost.cycles;
    columns.energyNJ[layerIndex] = cost.energyNJ;
  }

  /** Copies every cost of `table` (for the given models, or all) into this builder. */
  addAll(table: CostTable, keep: (model: string) => boolean = () => true): void {
    for (const model of table.models()) {
      if (!keep(model)) continue;
      const layers = table.layerCount(model);
      for (const costClass of table.classes) {
        for (let i = 0; i < layers; i++) {
          const cost = table.get(model, i, costClass);
          if (cost !== undefined) this.set(model, layers, i, costClass, cost);
        }
      }
    }
  }

  build(): CostTable {
    return new DenseCostTable([...this.classes], new Map(this.byModel));
  }
}

const nanArray = (length: number): Float64Array => new Float64Array(length).fill(Number.NaN);

/** A table with no costs. */
export const emptyCostTable = (): CostTable => new CostTableBuilder().build();

/**
 * `base` with every cost of `override` added or replacing base's. A model that `override` lays out
 * with a different layer count (it was replaced) keeps none of base's costs.
 */
export const mergeCostTables = (base: CostTable, override: CostTable): CostTable => {
  const builder = new CostTableBuilder();
  const sameLayout = (model: string) => {
    const layers = override.layerCount(model);
    return layers === 0 || layers === base.layerCount(model);
  };
  for (const costClass of base.classes) builder.addClass(costClass);
  builder.addAll(base, sameLayout);
  builder.addAll(override);
  return builder.build();
};

/** `table` without any cost of `model` (used when a model is replaced by a different one). */
export const dropModelCosts = (table: CostTable, model: string): CostTable => {
  const builder = new CostTableBuilder();
  for (const costClass of table.classes) builder.addClass(costClass);
  builder.addAll(table, (name) => name !== model);
  return builder.build();
};

// ---- CSV --------------------------------------------------------------------------------------

const METADATA_COLUMNS = new Set(["model", "layer_idx", "layer_name", "type", "N", "K", "C", "Y", "X", "R", "S", "macs"]);
const COST_COLUMN = /^(WS|OS|RS)_(\d+)pe_bw(\d+)_(cycles|energy_nJ)$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

interface CostColumns {
  readonly costClass: string;
  readonly cyclesAt: number;
  readonly energyAt: number;
}

interface Header {
  readonly width: number;
  readonly names: ReadonlyArray<string>;
  readonly modelAt: number;
  readonly layerAt: number;
  readonly layerNameAt: number | undefined;
  readonly classes: ReadonlyArray<CostColumns>;
}

/**
 * Parses a per-layer cost CSV, checking each row against `models` (name → model).
 * `file` names the file in errors.
 */
export const parseCostCsv = (text: string, file: string, models: ReadonlyMap<string, Model>): CostTable =>
  parseCostRecords(csvRecords(textLines(text), file), file, models);

/**
 * Reads a per-layer cost CSV file line by line (FileLines): the first bad row ends the read, so
 * a 200 MB file with a duplicate at line 3 is refused after reading its first chunk.
 */
export const readCostCsv = (path: string, file: string, models: ReadonlyMap<string, Model>): CostTable =>
  parseCostRecords(csvRecords(new FileLines(path, file), file), file, models);

/** Builds the table from CSV records (the header first), checking each row as it comes. */
export const parseCostRecords = (records: Iterable<CsvRecord>, file: string, models: ReadonlyMap<string, Model>): CostTable => {
  let header: Header | undefined;
  const builder = new CostTableBuilder();
  const seen = new Map<string, number>();
  for (const record of records) {
    if (header === undefined) {
      header = parseHeader(record, file);
      for (const columns of header.classes) builder.addClass(columns.costClass);
    } else {
      addRow(builder, header, record, file, models, seen);
    }
  }
  if (header === undefined) throw dataError(file, "line 1", "a header row", "an empty file");
  return builder.build();
};

const parseHeader = (record: CsvRecord, file: string): Header => {
  const names = record.cells.map((cell) => cell.trim());
  const at = (column: string) => `line ${record.line}, column ${column}`;
  const cycles = new Map<string, number>();
  const energy = new Map<string, number>();
  names.forEach((name, index) => {
    if (names.indexOf(name) !== index) throw dataError(file, at(name), "each column once", "a repeated column");
    const match = COST_COLUMN.exec(name);
    if (match !== null) {
      const costClass = name.slice(0, name.length - (match[4] ?? "").length - 1);
      (match[4] === "cycles" ? cycles : energy).set(costClass, index);
    } else if (!METADATA_COLUMNS.has(name)) {
      throw dataError(
        file,
        at(name === "" ? `${index + 1}` : name),
        `a column of ${listNames(METADATA_COLUMNS)} or <WS|OS|RS>_<pes>pe_bw<bw>_cycles / _energy_nJ`,
        showValue(name),
      );
    }
  });
  const modelAt = requireColumn(names, "model", file, record.line);
  const layerAt = requireColumn(names, "layer_idx", file, record.line);
  const classes = pairCostColumns(cycles, energy, file, record.line);
  const layerNameAt = names.indexOf("layer_name");
  return {
    width: names.length,
    names,
    modelAt,
    layerAt,
    layerNameAt: layerNameAt < 0 ? undefined : layerNameAt,
    classes,
  };
};

const requireColumn = (names: ReadonlyArray<string>, column: string, file: string, line: number): number => {
  const index = names.indexOf(column);
  if (index < 0) throw dataError(file, `line ${line}`, `a '${column}' column`, "none");
  return index;
};

const pairCostColumns = (
  cycles: ReadonlyMap<string, number>,
  energy: ReadonlyMap<string, number>,
  file: string,
  line: number,
): CostColumns[] => {
  for (const costClass of energy.keys()) {
    if (!cycles.has(costClass)) {
      throw dataError(file, `line ${line}, column ${costClass}_energy_nJ`, `a matching ${costClass}_cycles column`, "none");
    }
  }
  const classes: CostColumns[] = [];
  for (const [costClass, cyclesAt] of cycles) {
    const energyAt = energy.get(costClass);
    if (energyAt === undefined) {
      throw dataError(file, `line ${line}, column ${costClass}_cycles`, `a matching ${costClass}_energy_nJ column`, "none");
    }
    classes.push({ costClass, cyclesAt, energyAt });
  }
  if (classes.length === 0) {
    throw dataError(file, `line ${line}`, "at least one <DF>_<pes>pe_bw<bw>_cycles/_energy_nJ column pair", "none");
  }
  return classes;
};

const addRow = (
  builder: CostTableBuilder,
  header: Header,
  row: CsvRecord,
  file: string,
  models: ReadonlyMap<string, Model>,
  seen: Map<string, number>,
): void => {
  const cell = (index: number) => (row.cells[index] ?? "").trim();
  const at = (index: number) => `line ${row.line}, column ${header.names[index] ?? index + 1}`;
  if (row.cells.length !== header.width) {
    throw dataError(file, `line ${row.line}`, `${header.width} cells (as many as header columns)`, `${row.cells.length}`);
  }
  const modelName = cell(header.modelAt);
  const model = models.get(modelName);
  if (model === undefined) {
    throw dataError(file, at(header.modelAt), `a known model (${listNames(models.keys())})`, showValue(modelName));
  }
  const layerText = cell(header.layerAt);
  const layerIndex = /^\d+$/.test(layerText) ? Number(layerText) : -1;
  const layer = model.layers[layerIndex];
  if (layer === undefined) {
    const range = `0..${model.layers.length - 1}`;
    throw dataError(file, at(header.layerAt), `a layer index of ${model.name} (${range})`, showValue(layerText));
  }
  if (header.layerNameAt !== undefined && cell(header.layerNameAt) !== "" && cell(header.layerNameAt) !== layer.name) {
    throw dataError(
      file,
      at(header.layerNameAt),
      `${showValue(layer.name)} (the name of layer ${layerIndex} of ${model.name})`,
      showValue(cell(header.layerNameAt)),
    );
  }
  const key = `${model.name}\u0000${layerIndex}`;
  const earlier = seen.get(key);
  if (earlier !== undefined) {
    throw dataError(file, `line ${row.line}`, `one row per layer (line ${earlier} already has ${model.name} layer ${layerIndex})`, "a second row");
  }
  seen.set(key, row.line);
  for (const columns of header.classes) {
    const cycles = costCell(cell(columns.cyclesAt), file, at(columns.cyclesAt));
    const energyNJ = costCell(cell(columns.energyAt), file, at(columns.energyAt));
    builder.set(model.name, model.layers.length, layerIndex, columns.costClass, { cycles, energyNJ });
  }
};

const costCell = (text: string, file: string, path: string): number => {
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw dataError(file, path, "a non-negative number", text === "" ? "an empty cell" : showValue(DECIMAL.test(text) ? value : text));
  }
  return value;
};

/** One model's columns of a cost table, as stored (NaN = no cost): the prebuilt dataset's form. */
export interface CostColumnsOf {
  readonly model: string;
  readonly layerCount: number;
  readonly classes: ReadonlyArray<{ readonly costClass: string; readonly cycles: Float64Array; readonly energyNJ: Float64Array }>;
}

/** The table's dense columns, model by model, in the table's order (see `costTableFromColumns`). */
export const costColumns = (table: CostTable): CostColumnsOf[] =>
  table.models().map((model) => {
    const layerCount = table.layerCount(model);
    const classes = table.classes.flatMap((costClass) => {
      const cycles = nanArray(layerCount);
      const energyNJ = nanArray(layerCount);
      let any = false;
      for (let i = 0; i < layerCount; i++) {
        const cost = table.get(model, i, costClass);
        if (cost === undefined) continue;
        cycles[i] = cost.cycles;
        energyNJ[i] = cost.energyNJ;
        any = true;
      }
      return any ? [{ costClass, cycles, energyNJ }] : [];
    });
    return { model, layerCount, classes };
  });

/** A cost table from its dense columns (the inverse of `costColumns`; no copy, no checks). */
export const costTableFromColumns = (classes: ReadonlyArray<string>, models: ReadonlyArray<CostColumnsOf>): CostTable =>
  new DenseCostTable(
    [...classes],
    new Map(
      models.map((m) => [
        m.model,
        { layerCount: m.layerCount, byClass: new Map(m.classes.map((c) => [c.costClass, { cycles: c.cycles, energyNJ: c.energyNJ }])) },
      ]),
    ),
  );
