import { freezerVerb } from "./pause.ts";

export const unpause = freezerVerb("unpause");
