// One long-lived evaluator for ops/emulator/iam: reads one JSON simulation per line on stdin
// ({"id": n, "define": {digest: policy}, "simulation": {...}} in @cloud-copilot/iam-simulate's
// Simulation shape, each policy named by the digest it was defined under once) and writes
// one JSON line per request: {"id": n, "result": "Allowed"|"ExplicitlyDenied"|"ImplicitlyDenied",
// "denied_by": [...], "error": "..."}. A test-time tool only (the package is AGPL-3.0).
import { createInterface } from 'node:readline';
import { runSimulation } from '@cloud-copilot/iam-simulate';

const policies = new Map();

function resolve(simulation) {
  const lookup = (digest) => {
    if (!policies.has(digest)) throw new Error(`policy ${digest} was never defined`);
    return policies.get(digest);
  };
  const named = (list) => list && list.map((p) => ({ ...p, policy: lookup(p.policy) }));
  return {
    ...simulation,
    identityPolicies: named(simulation.identityPolicies),
    permissionBoundaryPolicies: named(simulation.permissionBoundaryPolicies),
    sessionPolicy: simulation.sessionPolicy && lookup(simulation.sessionPolicy),
    resourcePolicy: simulation.resourcePolicy && lookup(simulation.resourcePolicy)
  };
}

function deniedBy(result) {
  const analyses = result.resultType === 'single' ? [result.result.analysis]
    : (result.results || []).map((r) => r.analysis);
  const blocked = new Set();
  for (const analysis of analyses) for (const reason of analysis?.blockedBy || []) blocked.add(reason);
  return [...blocked];
}

async function evaluate(line) {
  let id = null;
  try {
    const request = JSON.parse(line);
    id = request.id;
    for (const [digest, policy] of Object.entries(request.define || {})) policies.set(digest, policy);
    const result = await runSimulation(resolve(request.simulation), {});
    if (result.resultType === 'error') {
      return { id, error: result.errors.message || JSON.stringify(result.errors) };
    }
    return { id, result: result.overallResult, denied_by: deniedBy(result) };
  } catch (error) {
    return { id, error: String(error && error.stack || error) };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
// Answers in order: the emulator sends one request at a time and waits for its answer.
for await (const line of lines) {
  if (!line.trim()) continue;
  process.stdout.write(JSON.stringify(await evaluate(line)) + '\n');
}
