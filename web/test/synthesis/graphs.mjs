// For tests/web/test_web_graphs.py: reads a JSON list of networks on stdin,
// [{arch_id, arch_params, width, height, chroma}], and prints for each its program and the ONNX
// graph of its map operations (base64), as web/src/synth builds them, one JSON object a line.
import { Network } from '../../src/synth/network.js';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
for (const n of JSON.parse(Buffer.concat(chunks).toString())) {
  const net = new Network(null, {
    archId: n.arch_id, archParams: n.arch_params, width: n.width, height: n.height, chroma: n.chroma, offset: 0.5,
  });
  net.load(net.specs.map(([, dims]) => new Float32Array(dims.reduce((a, b) => a * b, 1))));
  const graph = Buffer.from(net.graph()).toString('base64');
  process.stdout.write(JSON.stringify({ program: net.program, graph }) + '\n');
}
