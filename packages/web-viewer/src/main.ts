import "./style.css";
import { modeFromSearch } from "./lib/source.js";
import { startApp } from "./ui/app.js";
import { notice, replace } from "./ui/dom.js";

const root = document.querySelector<HTMLElement>("#app")!;
startApp(root, modeFromSearch(location.search)).catch((e: unknown) => {
  replace(root, notice("error", "The viewer failed to start", (e as Error).message));
});
