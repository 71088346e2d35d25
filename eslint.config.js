// ESLint for our own browser scripts (./gridline test runs it). Our code is ES modules
// (<script type="module">, import/export); the few classic scripts left parse as modules too.
// gettext() and friends come from Django's JavaScriptCatalog (/jsi18n/, loaded first by
// base.html). Third-party code (node_modules) and collected static files (var/) are not ours.
const js = require("@eslint/js");
const globals = require("globals");

const catalog = {
  gettext: "readonly",
  ngettext: "readonly",
  interpolate: "readonly",
  pgettext: "readonly",
  get_format: "readonly",
};

module.exports = [
  { ignores: ["node_modules/**", "var/**", ".venv/**", "test-artifacts/**", "bench/**"] },
  {
    files: ["static/**/*.js", "*/static/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...catalog, L: "readonly" },
    },
  },
  {
    files: ["static/**/sw.js", "*/static/**/sw.js"],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
];
