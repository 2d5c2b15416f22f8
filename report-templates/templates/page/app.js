document.getElementById('q').addEventListener('input',function(){
var q=this.value.toLowerCase();
document.querySelectorAll('tr.pkg').forEach(function(r){
var hit=r.dataset.path.toLowerCase().indexOf(q)>=0;
r.querySelectorAll('table.files tr').forEach(function(f){
var m=f.dataset.path.toLowerCase().indexOf(q)>=0;f.style.display=(m||hit)?'':'none';if(m)hit=true;});
r.style.display=hit?'':'none';if(q&&hit)r.querySelector('details').open=true;});});
