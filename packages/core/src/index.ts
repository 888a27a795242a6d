// tfjs-core first: it must create the shared engine before the gradients bundle (its own copy of
// tfjs-core internals) is evaluated, or that copy's engine wins and steps fail ("reading 'clone'").
import "@tensorflow/tfjs-core";
import "./gradients.js";
import "./quiet.js";

export const VERSION = "0.1.0";
export * from "./api.js";
export * from "./model/index.js";
export * from "./train/index.js";
