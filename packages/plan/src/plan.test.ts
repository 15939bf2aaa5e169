import { describe, expect, it } from "vitest";
import { planFixture } from "../test/fixture.js";
import * as api from "./index.js";
import { encodePlan, formatPlan, MsError, type Plan, validatePlan } from "./index.js";

function plan(overrides: Partial<Plan> = {}): Plan {
  const base = planFixture({
    mounts: [
      { type: "bind", source: "/", target: "/", readOnly: true },
      { type: "tmpfs", target: "/tmp", mode: 0o1777, sizeBytes: 0 },
      { type: "overlay", target: "/usr", lower: ["/usr", "/a:b,c"], upper: "/s/u", work: "/s/w" },
    ],
    argv: ["echo", "a b", ""],
    cwd: "/work",
  });
  return { ...base, process: { ...base.process, env: { A: "1" }, graceMs: 2000 }, ...overrides };
}

const tokens = (p: Plan) => encodePlan(p).split("\0").slice(0, -1);

describe("@ms/plan", () => {
  it("exports exactly its public door", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "ERROR_CODES",
        "MsError",
        "PLAN_VERSION",
        "RLIMIT_NAMES",
        "WIRE_MAGIC",
        "encodePlan",
        "exitCodeFor",
        "formatPlan",
        "isMsError",
        "mountIndexOfWireStep",
        "validatePlan",
      ].sort(),
    );
  });

  it("encodes a plan as NUL-separated ordered operations", () => {
    const t = tokens(plan());
    expect(t.slice(0, 2)).toEqual(["mini-sandbox-plan", "1"]);
    expect(t.slice(2, 4)).toEqual(["unshare", "user,mount,pid,ipc,net,cgroup"]);
    expect(t).toContain("loopback");
    const overlay = t.indexOf("overlay");
    expect(t.slice(overlay, overlay + 7)).toEqual([
      "overlay",
      "/usr",
      "/s/u",
      "/s/w",
      "2",
      "/usr",
      "/a:b,c",
    ]);
    expect(t.slice(-5)).toEqual(["exec", "3", "echo", "a b", ""]);
    expect(t).toContain("A=1");
  });

  it("keeps paths with spaces, commas, colons and newlines intact", () => {
    const odd = "/w/a b,c:d\ne";
    const t = tokens(
      plan({ mounts: [{ type: "bind", source: odd, target: odd, readOnly: false }] }),
    );
    expect(t.filter((x) => x === odd)).toHaveLength(2);
    expect(
      formatPlan(plan({ mounts: [{ type: "bind", source: odd, target: odd, readOnly: false }] })),
    ).toContain(JSON.stringify(odd));
  });

  it.each([
    [
      "a relative path",
      { mounts: [{ type: "bind", source: "rel", target: "/x", readOnly: true }] },
      /mounts\[0\]\.source: must be an absolute path/,
    ],
    [
      "a .. component",
      { mounts: [{ type: "tmpfs", target: "/a/../b", mode: 0o755, sizeBytes: 0 }] },
      /normalised/,
    ],
    ["a NUL byte", { process: { ...plan().process, argv: ["a\0b"] } }, /NUL/],
    ["no command", { process: { ...plan().process, argv: [] } }, /must name a command/],
    ["a hostname without uts", { hostname: "box" }, /needs the uts namespace/],
    [
      "host network with a net namespace",
      { network: { mode: "host" } },
      /must not create a net namespace/,
    ],
    ["an unknown step", { mounts: [{ type: "nope", target: "/" }] }, /unknown mount step/],
    [
      "a bad env name",
      { process: { ...plan().process, env: { "A=B": "1" } } },
      /bad variable name/,
    ],
  ])("rejects %s", (_, overrides, message) => {
    expect(() => validatePlan(plan(overrides as Partial<Plan>))).toThrow(message);
    try {
      validatePlan(plan(overrides as Partial<Plan>));
    } catch (error) {
      expect(error).toBeInstanceOf(MsError);
      expect((error as MsError).code).toBe("ERR_MS_INVALID_PLAN");
      expect((error as MsError).exitCode).toBe(125);
    }
  });

  it("maps error codes to exit statuses", () => {
    expect(new MsError("ERR_MS_COMMAND_NOT_FOUND", "x").exitCode).toBe(127);
    expect(new MsError("ERR_MS_COMMAND_NOT_EXECUTABLE", "x").exitCode).toBe(126);
    expect(new MsError("ERR_MS_SETUP_FAILED", "x").exitCode).toBe(125);
    expect(MsError.from(new Error("boom")).code).toBe("ERR_MS_INTERNAL");
  });
});
