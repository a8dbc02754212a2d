// Loaded by index.test.ts to show that its start-up probe does see yaml and https being loaded.
import "node:https";
import "yaml";
