import { generatedLaws } from "../support/generatedLaws.js";
import { testBackend } from "../support/backend.js";

generatedLaws(testBackend, 40);
