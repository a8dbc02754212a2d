#!/usr/bin/env node
import { runProvider } from "@kubelet-credential-provider/core";
import { provider } from "./provider.ts";

void runProvider(provider);
