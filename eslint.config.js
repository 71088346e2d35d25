// ESLint for our own browser scripts (./gridline test runs it): classic scripts loaded by
// <script> tags, not modules, sharing window.gridline and Leaflet's L. Third-party code
// (node_modules) and collected static files (var/) are not ours to lint.
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  { ignores: ["node_modules/**", "var/**", ".venv/**", "test-artifacts/**", "bench/**"] },
  {
    files: ["static/**/*.js", "*/static/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser, L: "readonly" },
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
];
