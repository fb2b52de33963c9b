// The portal's words in Chinese (first) and English; the language is the dashboard's choice (cityos.lang).

const WORDS = {
  skip: ["跳到主要内容", "Skip to main content"],
  title: ["公共数据开放", "Open data"],
  "search.label": ["搜索数据集", "Search datasets"],
  "search.placeholder": ["搜索数据集、部门、主题…", "Search datasets, departments, themes…"],
  "search.go": ["搜索", "Search"],
  json: ["JSON", "JSON"],
  api: ["Action API", "Action API"],
  footer: ["cityos 公共数据开放：无条件开放与有条件开放的数据集", "cityos open data: unconditionally and conditionally open datasets"],
  found: ["个数据集", "datasets"],
  none: ["没有符合条件的数据集。", "No dataset matches."],
  clear: ["清除筛选", "Clear filters"],
  sort: ["排序", "Sort"],
  "sort.score desc, metadata_modified desc": ["相关度", "Relevance"],
  "sort.metadata_modified desc": ["最近更新", "Last modified"],
  "sort.title_string asc": ["标题", "Title"],
  "sort.name asc": ["资源代码", "Code"],
  "facet.organization": ["提供部门", "Department"],
  "facet.groups": ["主题", "Theme"],
  "facet.res_format": ["格式", "Format"],
  "facet.license_id": ["许可", "Licence"],
  "facet.opening_type": ["开放类型", "Opening type"],
  "facet.update_cycle": ["更新周期", "Update cycle"],
  unconditional: ["无条件开放", "Open"],
  conditional: ["有条件开放", "Conditional"],
  prev: ["上一页", "Previous"],
  next: ["下一页", "Next"],
  "meta.title": ["元数据", "Metadata"],
  "meta.code": ["资源代码", "Code"],
  "meta.organization": ["提供部门", "Department"],
  "meta.groups": ["主题", "Theme"],
  "meta.opening": ["开放类型", "Opening type"],
  "meta.conditions": ["开放条件", "Conditions"],
  "meta.cycle": ["更新周期", "Update cycle"],
  "meta.license": ["许可", "Licence"],
  "meta.created": ["发布时间", "Published"],
  "meta.modified": ["更新时间", "Modified"],
  "meta.items": ["开放数据项", "Open items"],
  "meta.withheld": ["未开放数据项", "Withheld items"],
  "meta.tags": ["标签", "Tags"],
  "preview.title": ["数据预览", "Preview"],
  "preview.field": ["字段", "Field"],
  "preview.value": ["值", "Value"],
  "preview.filter": ["筛选", "Filter"],
  "preview.clear": ["清除", "Clear"],
  "preview.total": ["条记录", "records"],
  "preview.report": ["纠错", "Report"],
  "downloads.title": ["下载", "Downloads"],
  "usage.title": ["使用情况", "Usage"],
  "usage.view": ["浏览", "Views"],
  "usage.download": ["下载", "Downloads"],
  "usage.api": ["API 调用", "API calls"],
  "report.title": ["数据纠错", "Report a wrong value"],
  "report.item": ["数据项", "Item"],
  "report.evidence": ["问题说明与依据", "What is wrong, and how you know"],
  "report.proposed": ["正确值（可选）", "The right value (optional)"],
  "report.send": ["提交", "Send"],
  "report.cancel": ["取消", "Cancel"],
  "report.sent": ["已提交，由数据来源部门核实：", "Sent: the source department verifies it: "],
  "report.due": ["答复时限", "answer due"],
  datasets: ["数据集", "Datasets"],
  organizations: ["提供部门", "Departments"],
  groups: ["主题", "Themes"],
  notFound: ["未找到", "Not found"],
  "apply.title": ["申请使用（有条件开放）", "Apply for this dataset (conditional)"],
  "apply.intro": ["有条件开放的数据经提供部门或大数据中心审核批准后，凭密钥在批准期限内使用。", "Conditional data opens with a key once the provider department or the big-data centre approves, for the period approved."],
  "apply.mine": ["查看我的申请", "See my application"],
  "apply.kind": ["申请人类型", "Applicant"],
  "apply.enterprise": ["法人及其他组织", "An enterprise or organisation"],
  "apply.person": ["自然人", "A person"],
  "apply.name": ["申请人（联系人）姓名", "Name"],
  "apply.organisation": ["单位名称（法人必填）", "Organisation (enterprises)"],
  "apply.contact": ["联系方式", "Contact"],
  "apply.scenario": ["应用场景", "Scenario"],
  "apply.purpose": ["用途说明", "Purpose"],
  "apply.send": ["提交申请", "Apply"],
  "apply.sent": ["申请已提交，待审核：", "Submitted, awaiting review: "],
  "apply.key": ["您的数据密钥（批准后在期限内打开本数据集）：", "Your key (opens this dataset once approved, for the period approved):"],
  "apply.keyOnce": ["密钥只显示这一次，平台只保存其摘要，无法找回；请立即妥善保存，并凭它查看审核结果。", "The key is shown this once: only its hash is kept and it cannot be recovered. Keep it now; it also shows the decision."],
  "mine.title": ["我的开放申请", "My application"],
  "mine.intro": ["粘贴申请时获得的密钥，查看审核结果。密钥只随请求头发送，不出现在网址中。", "Paste the key you were given when you applied to see the decision. It is sent as a header, never in the address."],
  "mine.key": ["密钥", "Key"],
  "mine.look": ["查看", "Look up"],
  "mine.dataset": ["数据集", "Dataset"],
  "mine.state": ["状态", "State"],
  "mine.provider": ["提供部门", "Provider"],
  "mine.scenario": ["应用场景", "Scenario"],
  "mine.applied": ["申请时间", "Applied"],
  "mine.terms": ["使用条款", "Terms"],
  "mine.ends": ["有效期至", "Valid until"],
  "mine.reason": ["理由", "Reason"],
  "mine.use": ["密钥作为请求头 Authorization 发送，在以下地址打开本数据集：", "Send the key as the Authorization header; it opens the dataset at:"],
  "mine.steps": ["办理过程", "History"],
  "mine.action.apply": ["提交申请", "applied"],
  "mine.action.approve": ["批准", "approved"],
  "mine.action.refuse": ["不予批准", "refused"],
  "mine.action.revoke": ["撤销", "revoked"],
};

let lang = localStorage.getItem("cityos.lang") === "en" ? "en" : "zh";

export const getLang = () => lang;

export function t(key) {
  const w = WORDS[key];
  return w ? w[lang === "zh" ? 0 : 1] : key;
}

export function applyWords(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder)));
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  localStorage.setItem("cityos.lang", lang);
}
