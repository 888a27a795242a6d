#!/usr/bin/env node
import { VERSION } from "./index.js";
console.log(`dilemma-cli ${VERSION}`);
