/**
 * Models: models/<MODEL>.json (XRBench layer lists) and user model files in the same format.
 *
 * A model file needs `name` and `layers` with K, C, Y, X, R, S per layer; N and stride default to
 * 1, type to "CONV", name to `layer<i>`. MACs are N*K*C*R*S*Y'*X' with Y' = (Y-R) div stride + 1
 * (MAESTRO convention: Y/X are input rows/cols, no padding; clamped at 0); a `derived_macs` field,
 * when present, must agree.
 */
import type { Layer, Model } from "../domain/types";
import { decodeOrThrow, readJson } from "./decode";
import { dataError, formatJsonPath } from "./errors";
import { ModelJson } from "./schemas";
import type { LayerJson } from "./schemas";

/** Reads and validates one model file. */
export const loadModelFile = (path: string): Model => decodeModel(readJson(path), path);

/** Validates an already parsed model JSON value (`file` names it in errors). */
export const decodeModel = (json: unknown, file: string): Model => {
  const decoded = decodeOrThrow(ModelJson, json, file);
  return {
    name: decoded.name,
    task: decoded.task ?? "",
    layers: decoded.layers.map((layer, position) => toLayer(layer, position, file)),
  };
};

const toLayer = (json: LayerJson, position: number, file: string): Layer => {
  const at = (field: string) => formatJsonPath(["layers", position, field]);
  if (json.index !== undefined && json.index !== position) {
    throw dataError(file, at("index"), `${position} (the layer's position in the list)`, String(json.index));
  }
  const layer: Layer = {
    index: position,
    name: json.name ?? `layer${position}`,
    type: json.type ?? "CONV",
    N: json.N ?? 1,
    K: json.K,
    C: json.C,
    Y: json.Y,
    X: json.X,
    R: json.R,
    S: json.S,
    stride: json.stride ?? 1,
    macs: 0,
  };
  const macs = layerMacs(layer);
  if (json.derived_macs !== undefined && json.derived_macs !== macs) {
    throw dataError(file, at("derived_macs"), `N*K*C*R*S*Y'*X' = ${macs}`, String(json.derived_macs));
  }
  if (json.macs !== undefined && json.macs !== macs) {
    throw dataError(file, at("macs"), `N*K*C*R*S*Y'*X' = ${macs}`, String(json.macs));
  }
  return { ...layer, macs };
};

/**
 * N*K*C*R*S*Y'*X' with Y' = max(0, (Y-R) div stride + 1), X' likewise. A kernel larger than its
 * input gives 0 MACs: XRBench has such layers (e.g. GE_FBNet_C conv51, R=S=5 on 5x4) and MAESTRO
 * still costs them, so they are accepted.
 */
export const layerMacs = (layer: Omit<Layer, "macs" | "index" | "name" | "type">): number => {
  const outY = Math.max(0, Math.floor((layer.Y - layer.R) / layer.stride) + 1);
  const outX = Math.max(0, Math.floor((layer.X - layer.S) / layer.stride) + 1);
  return layer.N * layer.K * layer.C * layer.R * layer.S * outY * outX;
};
