import { expect, it } from "vitest";
import { isAvailable } from "../src/index.js";
it("loads", () => expect(typeof isAvailable()).toBe("boolean"));
