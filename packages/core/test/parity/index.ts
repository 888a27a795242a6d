// Fixture parity harness: one vitest test per case folder under the fixture root, dispatched
// on the case's config.kind to a runner registered by the kind's module (vit_dilemma.ts, ...).
import { it } from "vitest";
import { fixturesRoot, listCases, loadCase, type FixtureCase } from "../util/fixtures.js";

export type ParityRunner = (c: FixtureCase) => void | Promise<void>;

/** Runners by fixture kind. */
export const runners = new Map<string, ParityRunner>();

/** Registers the runner for a fixture kind (one per kind). */
export function registerKind(kind: string, run: ParityRunner): void {
  if (runners.has(kind) && runners.get(kind) !== run) throw new Error(`parity: kind "${kind}" registered twice`);
  runners.set(kind, run);
}

/** Defines one test per fixture case; call after every kind module's register(). */
export function defineParityTests(root = fixturesRoot()): void {
  const cases = listCases(root);
  if (cases.length === 0) {
    it("fixtures present", () => {
      throw new Error(`no fixture cases (folders with manifest.json) under ${root}; set DILEMMA_FIXTURES to the fixture folder`);
    });
    return;
  }
  for (const { name, dir, kind } of cases) {
    it(name, async () => {
      const run = runners.get(kind);
      if (!run) {
        throw new Error(`fixture ${name}: no parity runner for kind "${kind}" (known: ${[...runners.keys()].join(", ") || "none"}); register one in test/parity/`);
      }
      await run(loadCase(dir));
    });
  }
}
