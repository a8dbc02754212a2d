// Loaded by index.test.ts to show that its start-up probe does see a package and https being loaded.
import "node:https";
import "fast-check";
