// The receipt page of a call for inputs (web/pages/call.js).
export { receipt as default } from './call.js';
