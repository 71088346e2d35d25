// Every route of the phone app, gathered from the view modules (CORE, WORK, BASE).
// Each module exports `routes = [{path, title, render(el, params, app)}]`.
import { routes as home } from "./home.js";
import { routes as login } from "./login.js";
import { routes as outbox } from "./outbox.js";
import { routes as conflict } from "./conflict.js";
import { routes as more } from "./more.js";
import { routes as map } from "./map.js";
import { routes as report } from "./report.js";
import { routes as incidents } from "./incidents.js";
import { routes as tasks } from "./tasks.js";
import { routes as visits } from "./visits.js";
import { routes as patrol } from "./patrol.js";
import { routes as notices } from "./notices.js";
import { routes as changes } from "./changes.js";
import { routes as basedata } from "./basedata.js";
import { routes as ledger } from "./ledger.js";
import { routes as needs } from "./needs.js";

export const routes = [
  ...home,
  ...map,
  ...login,
  ...outbox,
  ...conflict,
  ...more,
  ...report,
  ...incidents,
  ...tasks,
  ...visits,
  ...patrol,
  ...notices,
  ...changes,
  ...basedata,
  ...ledger,
  ...needs,
];
