import "./gradients.js";

export const VERSION = "0.1.0";
export * from "./api.js";
export * from "./model/index.js";
export * from "./train/index.js";
