import { describe, expect, it } from "vitest";
import { planFixture } from "../test/fixture.js";
import { encodePlan, formatPlan, type MountStep, type Plan, validatePlan } from "./index.js";

function plan(mounts: MountStep[]): Plan {
  return planFixture({ mounts, uid: 1, gid: 1 });
}

describe("hide and remount-ro steps", () => {
  it("encode with a fixed arity the executor checks", () => {
    const wire = encodePlan(
      plan([
        { type: "hide", target: "/srv/bob" },
        { type: "remount-ro", target: "/", recursive: false },
        { type: "remount-ro", target: "/srv" },
      ]),
    ).split("\0");
    expect(wire.slice(wire.indexOf("hide"), wire.indexOf("hide") + 2)).toEqual([
      "hide",
      "/srv/bob",
    ]);
    const first = wire.indexOf("remount-ro");
    expect(wire.slice(first, first + 6)).toEqual([
      "remount-ro",
      "/",
      "top",
      "remount-ro",
      "/srv",
      "recursive",
    ]);
  });

  it("are validated and printed", () => {
    expect(() => validatePlan(plan([{ type: "hide", target: "rel" }]))).toThrow(/absolute path/);
    expect(() =>
      validatePlan(
        plan([{ type: "remount-ro", target: "/", recursive: "no" as unknown as boolean }]),
      ),
    ).toThrow(/recursive: must be true or false/);
    const text = formatPlan(
      plan([
        { type: "hide", target: "/srv/bob" },
        { type: "remount-ro", target: "/", recursive: false },
      ]),
    );
    expect(text).toMatch(/\/srv\/bob +hidden/);
    expect(text).toMatch(/this mount only/);
  });
});
