// Every fixture case under $DILEMMA_FIXTURES (default test/fixtures) as one test, run by its config.kind.
import { register as adamw } from "./adamw.js";
import { register as dino } from "./dino.js";
import { defineParityTests } from "./index.js";
import { register as moco } from "./moco.js";
import { register as simclr } from "./simclr.js";
import { register as vitDilemma } from "./vit_dilemma.js";

for (const register of [vitDilemma, moco, simclr, dino, adamw]) register();
defineParityTests();
