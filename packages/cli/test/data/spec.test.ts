import { describe, expect, it } from "vitest";
import { parseDataSpec } from "../../src/data/index.js";

describe("parseDataSpec", () => {
  it("parses kinds, options and paths", () => {
    expect(parseDataSpec("shapes")).toEqual({ kind: "shapes", options: {} });
    expect(parseDataSpec("shapes:n=500,val=20&classes=4")).toEqual({ kind: "shapes", options: { n: "500", val: "20", classes: "4" } });
    expect(parseDataSpec("cifar10:/data/c10")).toEqual({ kind: "cifar10", path: "/data/c10", options: {} });
    expect(parseDataSpec("folder:./my photos?minSize=16,val=0.2")).toEqual({
      kind: "folder",
      path: "./my photos",
      options: { minSize: "16", val: "0.2" },
    });
    expect(parseDataSpec("folder:C:\\imgs").path).toBe("C:\\imgs");
  });

  it("rejects unknown kinds, missing paths and malformed options with the fix", () => {
    expect(() => parseDataSpec("imagenet")).toThrow(/unknown data spec "imagenet".*shapes.*folder:<dir>/);
    expect(() => parseDataSpec("folder:")).toThrow(/needs a directory.*folder:<dir>/);
    expect(() => parseDataSpec("shapes:n")).toThrow(/bad option "n".*key=value/);
  });
});
