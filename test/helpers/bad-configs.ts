/** Bad configs and the one line rmchat prints for each (unit and command-line tests share them). */
const H = [{ host: "a", port: 1 }];
const H3 = [
  { host: "127.0.0.1", port: 1 },
  { host: "127.0.0.1", port: 2 },
  { host: "127.0.0.1", port: 3 },
];

/** Configs the JSON Schema can judge on its own, and the one line rmchat prints for each. */
export const BAD_SHAPES: Array<[string, unknown, RegExp]> = [
  ["not an object", [], /: must be a JSON object$/],
  ["no hosts", { hosts: [] }, /hosts: must be a non-empty array/],
  [
    "port 0",
    { hosts: [{ host: "a", port: 0 }] },
    /hosts\[0\]\.port: must be an integer in 1\.\.65535/,
  ],
  [
    "empty host",
    { hosts: [{ host: "", port: 1 }] },
    /hosts\[0\]\.host: must be a non-empty string/,
  ],
  [
    "unknown ordering",
    { hosts: H, ordering: "lamport" },
    /ordering: must be one of fifo, causal, total/,
  ],
  ["window 0", { hosts: H, window: 0 }, /window: must be an integer in 1\.\./],
  ["unknown top key", { hosts: H, colour: "red" }, /: colour: unknown key$/],
  [
    "a typo inside a host entry",
    { hosts: [...H3, { host: "127.0.0.1", prot: 4 }] },
    /: hosts\[3\]\.prot: unknown key$/,
  ],
  [
    "membership.toString (an Object.prototype name)",
    { hosts: H, membership: { toString: 1 } },
    /: membership\.toString: unknown key$/,
  ],
  [
    "a __proto__ key",
    JSON.parse('{"hosts":[{"host":"a","port":1}],"__proto__":{"window":5}}'),
    /: __proto__: unknown key$/,
  ],
  [
    "a __proto__ key in membership",
    JSON.parse('{"hosts":[{"host":"a","port":1}],"membership":{"__proto__":{"quorum":1}}}'),
    /: membership\.__proto__: unknown key$/,
  ],
  [
    "a constructor key in a host entry",
    { hosts: [{ host: "a", port: 1, constructor: 1 }] },
    /: hosts\[0\]\.constructor: unknown key$/,
  ],
  ["stateDir not a string", { hosts: H, stateDir: 5 }, /stateDir: must be a non-empty string/],
  ["an empty cluster name", { hosts: H, cluster: "" }, /: cluster: must be 1 to 64 printable/],
  ["a cluster name of 65 characters", { hosts: H, cluster: "c".repeat(65) }, /: cluster: must be/],
  ["an empty keyring", { hosts: H, keys: [] }, /: keys: must be a non-empty array/],
  ["a short key", { hosts: H, keys: ["c2hvcnQ="] }, /: keys\[0\]: the key is 5 bytes, not 32/],
  ["a key that is not a string", { hosts: H, keys: [7] }, /: keys\[0\]: the key is not a string/],
  ["an empty keyFile", { hosts: H, keyFile: "" }, /: keyFile: must be a non-empty string/],
  ["membership not an object", { hosts: H, membership: [] }, /membership: must be an object/],
  [
    "a fractional timing",
    { hosts: H, membership: { heartbeatMs: 10.5 } },
    /membership\.heartbeatMs: must be an integer/,
  ],
];

/** Configs of the right shape that break a rule between keys (JSON Schema cannot say these). */
export const BAD_RULES: Array<[string, unknown, RegExp]> = [
  [
    "a cluster name with a space",
    { hosts: H, cluster: "a b" },
    /: cluster: must be 1 to 64 printable ASCII characters without spaces/,
  ],
  [
    "a key that is not base64",
    { hosts: H, keys: ["!".repeat(44)] },
    /: keys\[0\]: the key is not base64/,
  ],
  [
    "both keys and keyFile",
    { hosts: H, keys: [Buffer.alloc(32, 7).toString("base64")], keyFile: "k" },
    /: keys, keyFile: give either "keys" or "keyFile", not both/,
  ],
  [
    "leaseMs above electionTimeoutMs",
    { hosts: H, membership: { leaseMs: 600, electionTimeoutMs: 500 } },
    /membership\.leaseMs \(600\) must be below membership\.electionTimeoutMs \(500\): a new leader is elected only after the old lease has lapsed/,
  ],
  [
    "leaseMs above the default electionTimeoutMs",
    { hosts: H, membership: { leaseMs: 600 } },
    /membership\.leaseMs \(600\) must be below membership\.electionTimeoutMs \(500, the default\)/,
  ],
  [
    "leaseMs equal to electionTimeoutMs",
    { hosts: H, membership: { leaseMs: 500 } },
    /leaseMs \(500\) must be below/,
  ],
  [
    "heartbeatMs not below leaseMs",
    { hosts: H, membership: { heartbeatMs: 450 } },
    /membership\.heartbeatMs \(450\) must be below membership\.leaseMs \(400, the default\): the leader renews its lease/,
  ],
  [
    "probeAfterMs not below suspectAfterMs",
    { hosts: H, membership: { probeAfterMs: 600 } },
    /probeAfterMs \(600\) must be below membership\.suspectAfterMs \(500, the default\)/,
  ],
  [
    "suspectAfterMs not below deadAfterMs",
    { hosts: H, membership: { suspectAfterMs: 900, probeAfterMs: 350 } },
    /suspectAfterMs \(900\) must be below membership\.deadAfterMs \(800, the default\)/,
  ],
  [
    "quorum above the host count",
    { hosts: H3, membership: { quorum: 4 } },
    /membership\.quorum \(4\) cannot exceed the number of hosts \(3\)/,
  ],
  [
    "rtoMinMs above rtoMaxMs",
    { hosts: H, rtoMinMs: 500, rtoMaxMs: 100 },
    /rtoMinMs \(500\) must not exceed rtoMaxMs \(100\)/,
  ],
  [
    "rtoInitialMs below rtoMinMs",
    { hosts: H, rtoMinMs: 300 },
    /rtoInitialMs \(200\) must lie between rtoMinMs \(300\) and rtoMaxMs/,
  ],
  [
    "window above maxBacklog",
    { hosts: H, window: 2000, maxBacklog: 1000 },
    /window \(2000\) must not exceed maxBacklog \(1000\)/,
  ],
  [
    "the same host and port twice",
    {
      hosts: [
        { host: "a", port: 1 },
        { host: "a", port: 1 },
      ],
    },
    /hosts\[1\]: repeats a:1 \(hosts\[0\]\)/,
  ],
  [
    "a bracketed IPv6 address",
    { hosts: [{ host: "[::1]", port: 1 }] },
    /hosts\[0\]\.host: write an IPv6 address without brackets/,
  ],
];
