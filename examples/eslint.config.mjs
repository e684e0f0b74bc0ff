import gradflow from '@gradflow/eslint-plugin';
export default [gradflow.configs.recommended];
