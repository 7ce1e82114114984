import "./ui.js";
