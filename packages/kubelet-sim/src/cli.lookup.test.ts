/**
 * The conformance suite: `kubelet-credential-sim lookup` run as a process against plugin scripts
 * (testdata/plugins) that misbehave in each way the kubelet rejects, and a well-behaved counting
 * plugin whose exec counts show each cache rule.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countLines,
  execCounts,
  type JsonEntry,
  makeBinDir,
  parseReport,
  provider,
  runSim,
  type SimRun,
  scratch,
  V1ALPHA1,
  V1BETA1,
  writeConfig,
} from "../testdata/harness.ts";
import { DECODE_ERROR } from "./decode.ts";

const tmp = scratch("lookup");
afterAll(() => tmp.remove());

const GVK_ERROR = "error reading GVK from response: couldn't get version/kind; json parse error: ";

describe("a malformed answer is rejected with the kubelet's reason (acceptance 2)", () => {
  // mode → the reason the kubelet gives (and, after [, the simulator's detail).
  const cases: Record<string, string> = {
    "extra-field": `${DECODE_ERROR} [unknown field "auth.registry.example.email"]`,
    "extra-top-level-field": `${DECODE_ERROR} [unknown field "expiresAt"]`,
    "duplicate-field": `${DECODE_ERROR} [duplicate field "cacheKeyType"]`,
    "wrong-api-version":
      "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:credentialprovider.kubelet.k8s.io/v1beta1",
    "wrong-kind": `${DECODE_ERROR} [kind is "CredentialProviderRequest", not "CredentialProviderResponse"]`,
    "invalid-cache-key-type": 'credential provider plugin did not return a valid cacheKeyType: "Repository"',
    "missing-cache-key-type": 'credential provider plugin did not return a valid cacheKeyType: ""',
    "numeric-cache-duration": `${DECODE_ERROR} [cacheDuration: expected string, got number]`,
    "unitless-cache-duration": `${DECODE_ERROR} [cacheDuration: time: missing unit in duration "600"]`,
    "log-line": `${GVK_ERROR}invalid character 'I' looking for beginning of value`,
    "two-documents": `${GVK_ERROR}invalid character '{' after top-level value`,
    "empty-stdout": `${GVK_ERROR}unexpected end of JSON input`,
    "exit-nonzero":
      'error execing credential provider plugin bad-exit-nonzero for image exit-nonzero.example/app: exit status 3: boom: the cloud said no\nrequest was: {"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"exit-nonzero.example/app"}',
    sleep:
      "error execing credential provider plugin bad-sleep for image sleep.example/app: context deadline exceeded: ",
  };
  const modes = Object.keys(cases);
  let run: SimRun;
  let report: JsonEntry[];
  const counter = tmp.path("misbehaving.count");

  beforeAll(async () => {
    const binDir = makeBinDir(
      tmp.path("bad-bin"),
      Object.fromEntries(modes.map((mode) => [`bad-${mode}`, "misbehaving" as const])),
    );
    const config = writeConfig(
      tmp.path("bad.json"),
      modes.map((mode) =>
        provider(`bad-${mode}`, [`${mode}.example`], { env: { MODE: mode, COUNT_FILE: counter } }),
      ),
    );
    // Each image once, and the invalid cacheKeyType one twice: nothing is cached after a failure.
    const images = [...modes.map((mode) => `${mode}.example/app:1.0`), "invalid-cache-key-type.example/app"];
    run = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--timeout",
      "1s",
      "--output",
      "json",
      ...images,
    ]);
    report = parseReport(run);
  }, 15_000);

  it("exits 1 and reports one entry per image, in order", () => {
    expect(run.code).toBe(1);
    expect(report.map((entry) => entry.normalizedImage)).toEqual([
      ...modes.map((mode) => `${mode}.example/app`),
      "invalid-cache-key-type.example/app",
    ]);
  });

  it.each(modes)("%s", (mode) => {
    const entry = report.find((e) => e.normalizedImage === `${mode}.example/app`) as JsonEntry;
    expect(entry.providers).toHaveLength(1);
    const [answer] = entry.providers;
    expect(answer?.executed).toBe(true);
    expect(answer?.cached).toBe(false);
    expect(answer?.error?.trimEnd()).toBe(cases[mode]?.trimEnd());
    expect(entry.credentials).toEqual([]);
  });

  it("kills a plugin at --timeout, its children too", () => {
    // The sleeping plugin's `sleep 30` is killed with it: the run does not wait for it.
    expect(run.ms).toBeLessThan(8_000);
  });

  it("caches nothing after a failure: the same image runs the plugin again", () => {
    expect(execCounts(run.stderr)["bad-invalid-cache-key-type"]).toBe(2);
    const last = report.at(-1) as JsonEntry;
    expect(last.providers[0]).toMatchObject({ executed: true, cached: false });
  });

  it("prints the failure and the plugin's stderr in the text report", async () => {
    const binDir = makeBinDir(tmp.path("text-bin"), { failing: "misbehaving" });
    const config = writeConfig(tmp.path("text.json"), [
      provider("failing", ["registry.example"], { env: { MODE: "exit-nonzero" } }),
    ]);
    const text = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "registry.example/team/app",
    ]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("registry.example/team/app -> registry.example/team/app\n");
    expect(text.stdout).toContain(
      "  provider failing: failed (executed): error execing credential provider plugin failing for image registry.example/team/app: exit status 3: boom: the cloud said no\n",
    );
    expect(text.stdout).toContain('      request was: {"kind":"CredentialProviderRequest"');
    expect(text.stdout).toMatch(/\n\nexecuted failing 1 time\n$/);
    expect(text.stderr).toBe("");
  });
});

describe("the cache rules, shown by exec counts (acceptance 2)", () => {
  const counter = (name: string) => tmp.path(`${name}.count`);
  const counting = (
    name: string,
    match: string,
    env: Record<string, string>,
    extra: Record<string, unknown> = {},
  ) => provider(name, [match], { env: { COUNT_FILE: counter(name), ...env }, ...extra });
  let run: SimRun;
  let report: JsonEntry[];
  const images = [
    ["a.image.test/x", "image-key"],
    ["a.image.test/x:2", "image-key"],
    ["a.image.test/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image-key"],
    ["a.image.test/y", "image-key"],
    ["b.image.test/x", "image-key"],
    ["a.registry.test/x", "registry-key"],
    ["a.registry.test/y", "registry-key"],
    ["b.registry.test/x", "registry-key"],
    ["a.global.test/x", "global-key"],
    ["b.global.test/y", "global-key"],
    ["a.default.test/x", "default-duration"],
    ["a.default.test/y", "default-duration"],
    ["a.defzero.test/x", "default-zero"],
    ["a.defzero.test/y", "default-zero"],
    ["a.zero.test/x", "zero-duration"],
    ["a.zero.test/x", "zero-duration"],
  ] as const;

  beforeAll(async () => {
    const names = [
      "image-key",
      "registry-key",
      "global-key",
      "default-duration",
      "default-zero",
      "zero-duration",
    ];
    const binDir = makeBinDir(
      tmp.path("cache-bin"),
      Object.fromEntries(names.map((n) => [n, "counting" as const])),
    );
    const config = writeConfig(tmp.path("cache.json"), [
      counting("image-key", "*.image.test", { CACHE_KEY_TYPE: "Image", CACHE_DURATION: "10m" }),
      counting("registry-key", "*.registry.test", { CACHE_KEY_TYPE: "Registry", CACHE_DURATION: "10m" }),
      counting("global-key", "*.global.test", { CACHE_KEY_TYPE: "Global", CACHE_DURATION: "10m" }),
      counting(
        "default-duration",
        "*.default.test",
        { CACHE_KEY_TYPE: "Registry" },
        { defaultCacheDuration: "10m" },
      ),
      counting(
        "default-zero",
        "*.defzero.test",
        { CACHE_KEY_TYPE: "Registry" },
        { defaultCacheDuration: "0s" },
      ),
      counting("zero-duration", "*.zero.test", { CACHE_KEY_TYPE: "Registry", CACHE_DURATION: "0s" }),
    ]);
    run = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--output",
      "json",
      ...images.map(([image]) => image),
    ]);
    report = parseReport(run);
  }, 15_000);

  it("answers every image and exits 0", () => {
    expect(run.code).toBe(0);
    expect(report).toHaveLength(images.length);
    // All but the second Global image, whose cached answer is for another registry (see below).
    expect(report.filter((entry) => entry.credentials.length !== 1).map((entry) => entry.image)).toEqual([
      "b.global.test/y",
    ]);
  });

  it("counts executions per plugin, on stderr with --output json", () => {
    expect(execCounts(run.stderr)).toEqual({
      "image-key": 3,
      "registry-key": 2,
      "global-key": 1,
      "default-duration": 1,
      "default-zero": 2,
      "zero-duration": 2,
    });
    // The plugins' own count agrees.
    expect(countLines(counter("image-key"))).toHaveLength(3);
    expect(countLines(counter("global-key"))).toHaveLength(1);
  });

  const served = (index: number) => {
    const entry = report[index] as JsonEntry;
    return entry.providers[0]?.cached ? "cache" : entry.providers[0]?.executed ? "exec" : "none";
  };

  it("Image: one entry per normalised image; tag and digest do not matter", () => {
    expect([0, 1, 2, 3, 4].map(served)).toEqual(["exec", "cache", "cache", "exec", "exec"]);
    expect(
      countLines(counter("image-key")).map((line) => JSON.parse(line.split(" args=")[0] as string).image),
    ).toEqual(["a.image.test/x", "a.image.test/y", "b.image.test/x"]);
  });

  it("Registry: one entry per registry host", () => {
    expect([5, 6, 7].map(served)).toEqual(["exec", "cache", "exec"]);
  });

  it("Global: one entry for every image", () => {
    expect([8, 9].map(served)).toEqual(["exec", "cache"]);
    // The cached answer is the first image's: its key does not match the second image.
    expect(report[9]?.credentials).toEqual([]);
  });

  it("no cacheDuration: the provider's defaultCacheDuration, and a zero default caches nothing", () => {
    expect([10, 11].map(served)).toEqual(["exec", "cache"]);
    expect([12, 13].map(served)).toEqual(["exec", "exec"]);
  });

  it('cacheDuration "0s": never cached, even for the same image', () => {
    expect([14, 15].map(served)).toEqual(["exec", "exec"]);
  });
});

describe("how a plugin is run", () => {
  let run: SimRun;
  let report: JsonEntry[];
  const counter = tmp.path("exec.count");

  beforeAll(async () => {
    const binDir = makeBinDir(tmp.path("exec-bin"), {
      "args-env": "counting",
      beta: "counting",
      alpha: "counting",
    });
    const config = writeConfig(tmp.path("exec.json"), [
      provider("args-env", ["exec.test"], {
        args: ["--flag=a b", "plain", "$HOME", "*"],
        env: { COUNT_FILE: counter, USERNAME: "from-config" },
      }),
      provider("beta", ["beta.test"], { apiVersion: V1BETA1, env: { COUNT_FILE: counter } }),
      provider("alpha", ["alpha.test"], { apiVersion: V1ALPHA1, env: { COUNT_FILE: counter } }),
    ]);
    run = await runSim(
      [
        "lookup",
        "--config",
        config,
        "--bin-dir",
        binDir,
        "--output=json",
        "--service-account-token",
        "sa-token-not-for-these",
        "exec.test/team/app:v1",
        "beta.test/app",
        "alpha.test/app",
      ],
      { env: { USERNAME: "from-simulator", INHERITED: "kept" } },
    );
    report = parseReport(run);
  });

  it("passes exactly the configured args, no shell", () => {
    expect(run.code).toBe(0);
    expect(countLines(counter)[0]).toContain(" args=[--flag=a b][plain][$HOME][*] ");
  });

  it("writes one request line in the provider's apiVersion, image normalised, no service account fields", () => {
    const requests = countLines(counter).map((line) => line.split(" args=")[0]);
    expect(requests).toEqual([
      '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"exec.test/team/app"}',
      '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"beta.test/app"}',
      '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"alpha.test/app"}',
    ]);
  });

  it("accepts answers in the configured v1beta1 and v1alpha1", () => {
    expect(report.map((entry) => entry.credentials.length)).toEqual([1, 1, 1]);
  });

  it("gives the plugin the simulator's environment plus the config's env; the config wins", () => {
    expect(countLines(counter)[0]).toMatch(/ inherited=kept$/);
    expect(report[0]?.credentials[0]?.username).toBe("from-config");
  });

  it("redacts passwords unless --show-secrets", async () => {
    expect(report[0]?.credentials[0]?.password).toBe("<redacted>");
    expect(run.stdout).not.toContain("secret-1");
  });
});

describe("lookup explains: why no provider matches, and how long each answer is kept", () => {
  const config = () =>
    writeConfig(tmp.path("explain.json"), [
      provider("ecr-credential-provider", ["*.amazonaws.com", "public.ecr.aws"]),
      provider("registry", ["registry.example.com", "*.registry.example.com:5000/team/"], {
        env: { CACHE_DURATION: "6h" },
      }),
      provider("images", ["images.example.com"], {
        env: { CACHE_KEY_TYPE: "Image" },
        defaultCacheDuration: "90s",
      }),
      provider("uncached", ["uncached.example.com"], { env: { CACHE_DURATION: "0s" } }),
    ]);
  const binDir = () =>
    makeBinDir(tmp.path("explain-bin"), {
      "ecr-credential-provider": "counting",
      registry: "counting",
      images: "counting",
      uncached: "counting",
    });
  const IMAGES = [
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
    "registry.example.com/app",
    "registry.example.com/other",
    "images.example.com/app",
    "uncached.example.com/app",
  ];
  const before = Date.now();

  it("says, in JSON, each pattern's reason and each answer's cacheKeyType, duration and expiry", async () => {
    const run = await runSim([
      "lookup",
      "--config",
      config(),
      "--bin-dir",
      binDir(),
      "--output",
      "json",
      ...IMAGES,
    ]);
    expect(run.code).toBe(0);
    const [ecr, registry, other, images, uncached] = parseReport(run);
    expect(ecr?.providers).toEqual([]);
    expect(ecr?.unmatched).toEqual([
      {
        provider: "ecr-credential-provider",
        pattern: "*.amazonaws.com",
        reason:
          '3 DNS labels; the image\'s host 123456789012.dkr.ecr.eu-west-1.amazonaws.com has 6 ("*" matches within one label)',
      },
      {
        provider: "ecr-credential-provider",
        pattern: "public.ecr.aws",
        reason: "3 DNS labels; the image's host 123456789012.dkr.ecr.eu-west-1.amazonaws.com has 6",
      },
      {
        provider: "registry",
        pattern: "registry.example.com",
        reason: expect.stringMatching(/^3 DNS labels; /),
      },
      {
        provider: "registry",
        pattern: "*.registry.example.com:5000/team/",
        reason: "the pattern's port is 5000; the image names none",
      },
      { provider: "images", pattern: "images.example.com", reason: expect.stringMatching(/^3 DNS labels; /) },
      {
        provider: "uncached",
        pattern: "uncached.example.com",
        reason: expect.stringMatching(/^3 DNS labels; /),
      },
    ]);
    const cacheOf = (entry: typeof registry) => entry?.providers[0]?.cache;
    expect(cacheOf(registry)).toMatchObject({
      keyType: "Registry",
      key: "registry.example.com",
      duration: "6h",
      durationFrom: "cacheDuration",
    });
    const expires = Date.parse(cacheOf(registry)?.expiresAt ?? "");
    expect(expires - before).toBeGreaterThanOrEqual(6 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(6 * 3600_000);
    // The second image of the registry is the cached answer, with the same expiry.
    expect(other?.providers[0]).toMatchObject({ cached: true, cache: cacheOf(registry) });
    expect(cacheOf(images)).toMatchObject({
      keyType: "Image",
      key: "images.example.com/app",
      duration: "90s",
      durationFrom: "defaultCacheDuration",
    });
    expect(cacheOf(uncached)).toEqual({
      keyType: "Registry",
      key: "uncached.example.com",
      duration: "0s",
      durationFrom: "cacheDuration",
      expiresAt: null,
    });
    expect(registry?.unmatched).toBeUndefined();
  });

  it("says the same in text, and ends with a summary table", async () => {
    const run = await runSim(["lookup", "--config", config(), "--bin-dir", binDir(), ...IMAGES]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app -> 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
      "  no provider matches this image: the kubelet pulls it without plugin credentials",
      '    ecr-credential-provider "*.amazonaws.com": 3 DNS labels; the image\'s host 123456789012.dkr.ecr.eu-west-1.amazonaws.com has 6 ("*" matches within one label)',
      '    ecr-credential-provider "public.ecr.aws": 3 DNS labels; the image\'s host 123456789012.dkr.ecr.eu-west-1.amazonaws.com has 6',
    ]);
    expect(run.stdout).toMatch(
      /^ {2}provider registry: executed; cached by Registry "registry\.example\.com" for 6h \(the answer's cacheDuration\), until \d{4}-\d\d-\d\dT[\d:.]+Z$/m,
    );
    expect(run.stdout).toMatch(
      /^ {2}provider registry: served from cache; cached by Registry "registry\.example\.com" for 6h/m,
    );
    expect(run.stdout).toContain(
      '  provider images: executed; cached by Image "images.example.com/app" for 90s (the provider\'s defaultCacheDuration), until ',
    );
    expect(run.stdout).toContain(
      "  provider uncached: executed; not cached (0s, the answer's cacheDuration)\n",
    );
    const summary = lines.slice(lines.indexOf("summary:") + 1, lines.indexOf("summary:") + 7);
    expect(summary.map((line) => line.trim().split(/\s{2,}/))).toEqual([
      ["IMAGE", "PROVIDER", "ANSWER", "CACHE KEY", "FOR", "UNTIL"],
      ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", "-", "no provider matches"],
      [
        "registry.example.com/app",
        "registry",
        "executed",
        "Registry registry.example.com",
        "6h",
        expect.stringMatching(/Z$/),
      ],
      [
        "registry.example.com/other",
        "registry",
        "from cache",
        "Registry registry.example.com",
        "6h",
        expect.stringMatching(/Z$/),
      ],
      [
        "images.example.com/app",
        "images",
        "executed",
        "Image images.example.com/app",
        "90s",
        expect.stringMatching(/Z$/),
      ],
      [
        "uncached.example.com/app",
        "uncached",
        "executed",
        "Registry uncached.example.com",
        "0s",
        "not cached",
      ],
    ]);
    expect(run.stdout).toMatch(/\n\nexecuted ecr-credential-provider 0 times\nexecuted registry 1 time\n/);
  });
});

describe("redaction that reads well", () => {
  it("masks a password where it is a value, never inside a host name or a key", async () => {
    const binDir = makeBinDir(tmp.path("short-password-bin"), { short: "counting", same: "counting" });
    const config = writeConfig(tmp.path("short-password.json"), [
      provider("short", ["a.example.com"], { env: { PASSWORD: "p" } }),
      provider("same", ["b.example.com"], { env: { PASSWORD: "pw-1", USERNAME: "pw-1" } }),
    ]);
    const args = [
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "a.example.com/app",
      "b.example.com/app",
    ];
    const text = await runSim(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("a.example.com/app -> a.example.com/app\n");
    expect(text.stdout).toContain(
      '  credential a.example.com from short: username "user", password <redacted>\n',
    );
    // A username that is the password, as a whole, is masked like one.
    expect(text.stdout).toContain(
      '  credential b.example.com from same: username "<redacted>", password <redacted>\n',
    );
    expect(text.stdout).not.toContain("[REDACTED]");
    const json = parseReport(await runSim([...args.slice(0, 5), "--output", "json", ...args.slice(5)]));
    expect(
      json.map((entry) => [entry.image, entry.credentials[0]?.key, entry.credentials[0]?.username]),
    ).toEqual([
      ["a.example.com/app", "a.example.com", "user"],
      ["b.example.com/app", "b.example.com", "<redacted>"],
    ]);
    expect(JSON.stringify(json)).not.toContain("pw-1");
  });
});

describe("--plugin-stderr-dir", () => {
  it("keeps each run's raw stderr, also when the plugin succeeds", async () => {
    const binDir = makeBinDir(tmp.path("stderr-bin"), { noisy: "counting" });
    const config = writeConfig(tmp.path("stderr.json"), [
      provider("noisy", ["*.example"], { env: { STDERR_NOTE: "hello from noisy", CACHE_KEY_TYPE: "Image" } }),
    ]);
    const dir = tmp.path("stderr-out");
    const run = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--plugin-stderr-dir",
      dir,
      "a.example/one",
      "a.example/two",
    ]);
    expect(run.code).toBe(0);
    const { readdirSync, readFileSync } = await import("node:fs");
    expect(readdirSync(dir).sort()).toEqual(["1-noisy.stderr", "2-noisy.stderr"]);
    expect(readFileSync(`${dir}/2-noisy.stderr`, "utf8")).toBe("hello from noisy run 1\n");
  });
});

describe("merging several providers' answers (the kubelet's keyring)", () => {
  let report: JsonEntry[];
  let run: SimRun;

  beforeAll(async () => {
    const binDir = makeBinDir(tmp.path("merge-bin"), {
      first: "counting",
      second: "counting",
      hub: "counting",
    });
    const auth = (entries: Record<string, string>) =>
      JSON.stringify(
        Object.fromEntries(
          Object.entries(entries).map(([key, user]) => [key, { username: user, password: `pw-${user}` }]),
        ),
      );
    const config = writeConfig(tmp.path("merge.json"), [
      provider("first", ["*.merge.test"], { env: { AUTH_JSON: auth({ "a.merge.test": "first-host" }) } }),
      provider("second", ["*.merge.test"], {
        env: {
          AUTH_JSON: auth({
            "https://a.merge.test": "second-host",
            "a.merge.test/team": "second-team",
            "b.merge.test": "second-other-registry",
          }),
        },
      }),
      provider("hub", ["docker.io"], {
        env: { AUTH_JSON: auth({ "https://index.docker.io/v1/": "hub-user" }) },
      }),
    ]);
    run = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--output",
      "json",
      "--show-secrets",
      "a.merge.test/team/app",
      "a.merge.test/other",
      "nginx:1.25",
      "unmatched.example/app",
    ]);
    report = parseReport(run);
  });

  it("lists every matching credential: longer keys first, then config order", () => {
    expect(run.code).toBe(0);
    expect(report[0]?.providers.map((p) => p.name)).toEqual(["first", "second"]);
    expect(report[0]?.credentials).toEqual([
      { provider: "second", key: "a.merge.test/team", username: "second-team", password: "pw-second-team" },
      { provider: "first", key: "a.merge.test", username: "first-host", password: "pw-first-host" },
      {
        provider: "second",
        key: "https://a.merge.test",
        username: "second-host",
        password: "pw-second-host",
      },
    ]);
    expect(report[1]?.credentials.map((c) => c.username)).toEqual(["first-host", "second-host"]);
    expect(report[1]?.providers).toMatchObject([
      { name: "first", executed: false, cached: true, cache: { keyType: "Registry", key: "a.merge.test" } },
      { name: "second", executed: false, cached: true, cache: { keyType: "Registry", key: "a.merge.test" } },
    ]);
  });

  it("falls back to index.docker.io credentials for a Docker Hub image", () => {
    expect(report[2]?.normalizedImage).toBe("docker.io/library/nginx");
    expect(report[2]?.credentials).toEqual([
      { provider: "hub", key: "https://index.docker.io/v1/", username: "hub-user", password: "pw-hub-user" },
    ]);
  });

  it("reports an image no provider matches, which is not a failure", () => {
    expect(report[3]).toEqual({
      image: "unmatched.example/app",
      normalizedImage: "unmatched.example/app",
      providers: [],
      credentials: [],
      unmatched: [
        {
          provider: "first",
          pattern: "*.merge.test",
          reason: '3 DNS labels; the image\'s host unmatched.example has 2 ("*" matches within one label)',
        },
        {
          provider: "second",
          pattern: "*.merge.test",
          reason: '3 DNS labels; the image\'s host unmatched.example has 2 ("*" matches within one label)',
        },
        { provider: "hub", pattern: "docker.io", reason: 'label 1, "docker", does not match "unmatched"' },
      ],
    });
  });
});

describe("tokenAttributes: service account token mode", () => {
  const counter = tmp.path("sa.count");
  const TOKEN = "eyJhbGciOiJSUzI1NiJ9.sa-token-payload.signature";
  let binDir: string;
  let config: string;
  const sa = (extra: string[] = []) => [
    "--service-account-token",
    TOKEN,
    "--service-account",
    "team/puller",
    ...extra,
  ];
  const lookup = async (args: string[]) => {
    const run = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--output",
      "json",
      ...args,
    ]);
    // The token is never printed, whatever happens.
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
    return { run, report: parseReport(run) };
  };

  beforeAll(() => {
    binDir = makeBinDir(tmp.path("sa-bin"), {
      required: "counting",
      optional: "counting",
      "echo-sa": "counting",
      "echo-token": "counting",
      "leaky-stderr": "misbehaving",
    });
    const attributes = (extra: Record<string, unknown>) => ({
      tokenAttributes: {
        serviceAccountTokenAudience: "registry.example",
        cacheType: "ServiceAccount",
        ...extra,
      },
    });
    config = writeConfig(tmp.path("sa.json"), [
      provider("required", ["required.sa.test"], {
        env: { COUNT_FILE: counter },
        ...attributes({
          requireServiceAccount: true,
          requiredServiceAccountAnnotationKeys: ["example.com/role", "example.com/Team"],
          optionalServiceAccountAnnotationKeys: ["example.com/tenant", "example.com/absent"],
        }),
      }),
      provider("optional", ["optional.sa.test"], {
        env: { COUNT_FILE: counter },
        ...attributes({ requireServiceAccount: false }),
      }),
      provider("echo-sa", ["echo-sa.sa.test"], {
        env: { PASSWORD: "token" },
        ...attributes({ requireServiceAccount: false }),
      }),
      provider("echo-token", ["echo-token.sa.test"], {
        env: { PASSWORD: "token" },
        ...attributes({ requireServiceAccount: true, cacheType: "Token" }),
      }),
      provider("leaky-stderr", ["leaky.sa.test"], {
        env: { MODE: "exit-nonzero" },
        ...attributes({ requireServiceAccount: true }),
      }),
    ]);
  });

  it("requireServiceAccount true and no service account: the plugin is not run", async () => {
    const { run, report } = await lookup(["required.sa.test/app"]);
    expect(run.code).toBe(1);
    expect(report[0]?.providers).toEqual([
      {
        name: "required",
        executed: false,
        cached: false,
        error:
          "not run: tokenAttributes.requireServiceAccount is true and the pod has no service account (no --service-account-token given); the kubelet logs this only at -v=5",
      },
    ]);
  });

  it("requireServiceAccount false and no service account: run without a token", async () => {
    const before = countLines(counter).length;
    const { run, report } = await lookup(["optional.sa.test/app"]);
    expect(run.code).toBe(0);
    expect(report[0]?.credentials).toHaveLength(1);
    const request = JSON.parse(countLines(counter)[before]?.split(" args=")[0] ?? "{}");
    expect(request).toEqual({
      kind: "CredentialProviderRequest",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      image: "optional.sa.test/app",
    });
  });

  it("a required annotation missing: the plugin is not run", async () => {
    const { run, report } = await lookup([
      ...sa(["--service-account-annotation", "example.com/role=puller"]),
      "required.sa.test/app",
    ]);
    expect(run.code).toBe(1);
    expect(report[0]?.providers[0]).toEqual({
      name: "required",
      executed: false,
      cached: false,
      error:
        "not run: Failed to get service account data team/puller: required annotation example.com/Team not found",
    });
  });

  it("passes the token, the required annotations and the optional ones present, nothing else", async () => {
    const before = countLines(counter).length;
    const { run, report } = await lookup([
      ...sa([
        "--service-account-annotation",
        "example.com/role=puller",
        "--service-account-annotation=example.com/Team=a=b",
        "--service-account-annotation",
        "example.com/tenant=t1",
        "--service-account-annotation",
        "example.com/unrelated=x",
      ]),
      "required.sa.test/app",
      "optional.sa.test/app",
    ]);
    expect(run.code).toBe(0);
    expect(report.map((entry) => entry.credentials.length)).toEqual([1, 1]);
    const requests = countLines(counter)
      .slice(before)
      .map((line) => line.split(" args=")[0]);
    expect(requests[0]).toBe(
      `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"required.sa.test/app","serviceAccountToken":"${TOKEN}","serviceAccountAnnotations":{"example.com/Team":"a=b","example.com/role":"puller","example.com/tenant":"t1"}}`,
    );
    // No annotation keys configured: none passed, the token still is.
    expect(JSON.parse(requests[1] ?? "{}")).toEqual({
      kind: "CredentialProviderRequest",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      image: "optional.sa.test/app",
      serviceAccountToken: TOKEN,
    });
  });

  it("the echo guard: a password equal to the token is refused unless cacheType is Token", async () => {
    const { run, report } = await lookup([
      ...sa(),
      "--show-secrets",
      "echo-sa.sa.test/app",
      "echo-token.sa.test/app",
    ]);
    expect(run.code).toBe(1);
    expect(report[0]?.providers[0]?.error).toBe(
      "Credential provider plugin returned the service account token as the password for image \"echo-sa.sa.test/app\", which is not allowed when service account cache type is not set to 'Token'",
    );
    expect(report[0]?.credentials).toEqual([]);
    expect(report[1]?.providers[0]).toMatchObject({ name: "echo-token", executed: true, cached: false });
    expect(report[1]?.providers[0]?.cache?.keyType).toBe("Registry");
    // Accepted, and even --show-secrets does not print the token.
    expect(report[1]?.credentials).toEqual([
      { provider: "echo-token", key: "echo-token.sa.test", username: "user", password: "[REDACTED]" },
    ]);
  });

  it("redacts the token in a plugin's stderr, in JSON and in text", async () => {
    const { run, report } = await lookup([...sa(), "leaky.sa.test/app"]);
    expect(run.code).toBe(1);
    expect(report[0]?.providers[0]?.error).toContain('"serviceAccountToken":"[REDACTED]"');
    const text = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      ...sa(),
      "leaky.sa.test/app",
    ]);
    expect(text.stdout).toContain('"serviceAccountToken":"[REDACTED]"');
    expect(text.stdout + text.stderr).not.toContain(TOKEN);
  });
});

describe("lookup: before any plugin runs", () => {
  it("refuses an invalid config with the kubelet's issues, exit 1", async () => {
    const config = writeConfig(tmp.path("invalid.json"), [provider("a/b", [])]);
    const run = await runSim(["lookup", "--config", config, "--bin-dir", tmp.dir, "x.io/app"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      [
        `kubelet-credential-sim: the kubelet 1.37 would not start: failed to validate credential provider config: [providers.name: Invalid value: "a/b": provider name cannot contain '/', providers.matchImages: Required value: at least 1 item in matchImages is required]`,
        `${config}: providers[0].name: Invalid value: "a/b": provider name cannot contain '/'`,
        `${config}: providers[0].matchImages: Required value: at least 1 item in matchImages is required`,
        "",
      ].join("\n"),
    );
  });

  it("refuses a missing bin dir or plugin as the kubelet does at start-up", async () => {
    const config = writeConfig(tmp.path("missing.json"), [provider("absent", ["x.io"])]);
    const noDir = await runSim(["lookup", "--config", config, "--bin-dir", tmp.path("nope"), "x.io/app"]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toBe(
      `kubelet-credential-sim: the kubelet would not start: plugin binary directory ${tmp.path("nope")} did not exist\n`,
    );
    const noPlugin = await runSim(["lookup", "--config", config, "--bin-dir", tmp.dir, "x.io/app"]);
    expect(noPlugin.code).toBe(1);
    expect(noPlugin.stderr).toContain(`plugin binary executable ${tmp.path("absent")} did not exist`);
  });

  it("reports an invalid image and goes on with the others", async () => {
    const binDir = makeBinDir(tmp.path("img-bin"), { ok: "counting" });
    const config = writeConfig(tmp.path("img.json"), [provider("ok", ["x.io"])]);
    const run = await runSim([
      "lookup",
      "--config",
      config,
      "--bin-dir",
      binDir,
      "--output",
      "json",
      "x.io/UP:tag:bad",
      "x.io/app",
    ]);
    expect(run.code).toBe(1);
    const report = parseReport(run);
    expect(report[0]).toMatchObject({
      image: "x.io/UP:tag:bad",
      normalizedImage: null,
      providers: [],
      credentials: [],
    });
    expect(report[0]?.error).toMatch(/^invalid image reference "x.io\/UP:tag:bad": /);
    expect(report[1]?.credentials).toHaveLength(1);
  });
});
