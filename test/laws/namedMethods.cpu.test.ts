import { namedMethodLaws } from "../support/namedMethodLaws.js";

namedMethodLaws("cpu");
