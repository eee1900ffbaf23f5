'use strict';
// Preloaded into the jsii kernel's node process (NODE_OPTIONS=--require) by lazy_provider_import.
//
// @cdktf/provider-aws/lib/index.js is ~2,100 lines of `exports.vpc = require("./vpc");`: node
// compiles and runs every resource module (~1.9 s) although a program uses a few dozen. This
// rewrites that one file, as node loads it, into lazy getters: `exports.vpc` requires ./vpc the
// first time the kernel looks it up (findSymbol walks `closure.vpc.Vpc`), then becomes a plain
// property. Same modules, same objects, loaded on demand. Any line of another shape leaves the
// file as it is: the normal eager load, same objects, only slower (harmless; the Python side pins
// the provider version, and tests/test_lazy_provider_import.py checks that the installed
// index.js is rewritten).
const Module = require('module');
const path = require('path');

const MARK = Symbol.for('lazy_provider_import.index_hook');
const TARGET = path.join('@cdktf', 'provider-aws', 'lib', 'index.js');
const REQUIRE_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/;
const DECLARE_LINE = /^exports\.[A-Za-z_$][\w$]*( = exports\.[A-Za-z_$][\w$]*)* = void 0;$/;
const KEPT_LINES = new Set([
  '', '"use strict";', 'Object.defineProperty(exports, "__esModule", { value: true });',
]);
const LAZY = 'function __lazy(name, id) {\n' +
  '  Object.defineProperty(exports, name, { enumerable: true, configurable: true, get() {\n' +
  '    const value = require(id);\n' +
  '    Object.defineProperty(exports, name, { enumerable: true, configurable: true, writable: true, value });\n' +
  '    return value;\n' +
  '  } });\n' +
  '}\n';

// The lazy version of an index.js made only of `exports.x = require("./y");` lines (plus the
// usual "use strict", __esModule marker, `= void 0` declarations and comments), else undefined.
function lazyIndex(source) {
  const out = [];
  let modules = 0;
  let comment = false;
  for (const line of source.split(/\r?\n/)) {
    const match = REQUIRE_LINE.exec(line);
    if (match) {
      out.push(`__lazy(${JSON.stringify(match[1])}, ${JSON.stringify(match[2])});`);
      modules += 1;
    } else if (comment || line.startsWith('/*')) {
      comment = !line.includes('*/');
      out.push(line);
    } else if (line.startsWith('//') || KEPT_LINES.has(line)) {
      out.push(line);
    } else if (!DECLARE_LINE.test(line)) {
      return undefined;
    }
  }
  return modules > 0 ? `${out.join('\n')}\n${LAZY}` : undefined;
}

if (!globalThis[MARK]) {
  globalThis[MARK] = { lazyIndex, rewritten: [] };
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileLazyProviderIndex(content, filename) {
    if (typeof filename === 'string' && filename.endsWith(TARGET)) {
      const lazy = lazyIndex(content);
      if (lazy !== undefined) {
        globalThis[MARK].rewritten.push(filename);
        return compile.call(this, lazy, filename);
      }
    }
    return compile.call(this, content, filename);
  };
}

module.exports = { lazyIndex };
