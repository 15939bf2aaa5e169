// The plan fixture lives with @ms/plan's own tests (so @ms/plan needs no
// dependency on this package); every other package gets it from here.
export { type PlanFixtureOptions, planFixture } from "../../../packages/plan/test/fixture.js";
